-- A clinic's own schema. Runs with search_path set to the tenant schema: no schema names here.
CREATE TABLE patients (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    version_id    integer NOT NULL DEFAULT 1,
    resource      jsonb NOT NULL CHECK (resource->>'resourceType' = 'Patient'),
    family        text,
    given         text,
    birth_date    text,
    gender        text CHECK (gender IN ('male', 'female', 'other', 'unknown')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_updated  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patients_family ON patients (lower(family) text_pattern_ops);
CREATE INDEX patients_given ON patients (lower(given) text_pattern_ops);

-- Who touched which health data, and how. Append-only.
CREATE TABLE audit_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor          text NOT NULL,
    action         text NOT NULL,
    statement      text NOT NULL,
    resource_type  text,
    resource_id    text
);
CREATE INDEX audit_events_at ON audit_events (at);
