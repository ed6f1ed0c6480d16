-- FHIR Consent (shared/src/api/resources/consent.rs): what a patient agreed to, with the
-- provision's period for the checks that will honour only consents in force.
CREATE TABLE consents (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    version_id    integer NOT NULL DEFAULT 1,
    resource      jsonb NOT NULL CHECK (resource->>'resourceType' = 'Consent'),
    last_updated  timestamptz NOT NULL DEFAULT now(),
    patient       uuid NOT NULL CONSTRAINT consents_patient_fkey REFERENCES patients (id),
    status        text NOT NULL,
    categories    jsonb NOT NULL DEFAULT '[]',
    valid_from    timestamptz,
    valid_to      timestamptz,
    recorded      timestamptz
);
CREATE INDEX consents_by_patient ON consents (patient, status);
CREATE INDEX consents_categories ON consents USING gin (categories);
