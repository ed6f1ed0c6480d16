-- FHIR Practitioner (shared/src/api/resources/practitioner.rs). The common resource columns,
-- then what search reads: the first family and given names, `active`, and the identifiers as
-- `system|value` strings (jsonb array: `?` finds one through the GIN index).
CREATE TABLE practitioners (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    version_id    integer NOT NULL DEFAULT 1,
    resource      jsonb NOT NULL CHECK (resource->>'resourceType' = 'Practitioner'),
    last_updated  timestamptz NOT NULL DEFAULT now(),
    family        text,
    given         text,
    active        boolean,
    identifiers   jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(identifiers) = 'array')
);
CREATE INDEX practitioners_family ON practitioners (lower(family) text_pattern_ops);
CREATE INDEX practitioners_given ON practitioners (lower(given) text_pattern_ops);
CREATE INDEX practitioners_identifiers ON practitioners USING gin (identifiers);
