-- FHIR Observation (shared/src/api/resources/observation.rs): device readings. `identity`
-- (the first identifier, `system|value`) is unique: resends never duplicate a reading.
-- Codes, categories and identifiers are `system|value` token arrays for search.
CREATE TABLE observations (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    version_id    integer NOT NULL DEFAULT 1,
    resource      jsonb NOT NULL CHECK (resource->>'resourceType' = 'Observation'),
    last_updated  timestamptz NOT NULL DEFAULT now(),
    patient       uuid NOT NULL CONSTRAINT observations_patient_fkey REFERENCES patients (id),
    status        text NOT NULL,
    codes         jsonb NOT NULL DEFAULT '[]',
    categories    jsonb NOT NULL DEFAULT '[]',
    effective     timestamptz NOT NULL,
    identifiers   jsonb NOT NULL DEFAULT '[]',
    identity      text CONSTRAINT observations_identity_key UNIQUE
);
CREATE INDEX observations_by_patient_date ON observations (patient, effective DESC, seq DESC);
CREATE INDEX observations_by_date ON observations (effective, seq);
CREATE INDEX observations_codes ON observations USING gin (codes);
CREATE INDEX observations_identifiers ON observations USING gin (identifiers);
