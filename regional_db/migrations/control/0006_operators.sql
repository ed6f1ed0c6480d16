-- Operators: the platform's super-admins (issue 11, item 4), apart from every clinic's
-- accounts. They sign in on the apex host (`/ops/sign-in`, `POST /ops/v1/token`); the
-- control plane's region checks the password (regional_db/src/operators.rs) with the same
-- argon2id parameters and throttling as clinics' sign-ins.
--
-- Least privilege (regional_db/src/grants.rs): the service's role reads neither table
-- (grant_control revokes what its schema-wide SELECT would give), so no catalog statement
-- can ever read an operator's hash. Operator requests run on the operator connection
-- (`OPERATOR_DATABASE_URL`, the schemas' owner), and read hashes only through
-- `control.operator_credentials`, one email at a time.
--
-- Subscribers (every region's copy of the control schema) run this migration like the
-- others; operators and their failures are not published (REPLICATED_TABLES): they are
-- read on the control plane only.
CREATE TABLE control.operators (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email            text NOT NULL CHECK (email <> '' AND length(email) <= 254),
    display_name     text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    password_hash    text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    disabled         boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at  timestamptz
);
-- One operator per email, whatever its case: sign-in looks emails up lower-cased.
CREATE UNIQUE INDEX operators_email ON control.operators (lower(email));

-- Failed operator sign-ins, counted per key (`email:…`, `client:…`) exactly as a clinic's
-- `sign_in_failures` (tenant/0014_accounts.sql): the same name, so the same statements
-- (regional_db/src/sign_in.rs) count and lock them with `control` as the search path.
CREATE TABLE control.sign_in_failures (
    key           text PRIMARY KEY CHECK (length(key) <= 300),
    failures      integer NOT NULL CHECK (failures > 0),
    window_start  timestamptz NOT NULL DEFAULT now(),
    locked_until  timestamptz
);
CREATE INDEX sign_in_failures_window ON control.sign_in_failures (window_start);

-- The one reader of operators' hashes.
CREATE OR REPLACE FUNCTION control.operator_credentials(p_email text)
    RETURNS TABLE (id uuid, email text, display_name text, disabled boolean, password_hash text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = control AS $$
    SELECT o.id, o.email, o.display_name, o.disabled, o.password_hash
    FROM control.operators o WHERE lower(o.email) = lower(p_email)
$$;
REVOKE ALL ON FUNCTION control.operator_credentials(text) FROM PUBLIC;

-- Sign-ins are operator events with no clinic: the slug becomes optional.
ALTER TABLE control.operator_events ALTER COLUMN slug DROP NOT NULL;
