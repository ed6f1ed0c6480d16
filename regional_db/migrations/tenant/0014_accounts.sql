-- People's accounts of the clinic and their password sign-in (shared/src/accounts.rs,
-- regional_db/src/sign_in.rs). Passwords are stored only as argon2id PHC strings, hashed
-- by regional-db.
--
-- Least privilege (regional_db/src/grants.rs): the service's role may write password_hash
-- but never select it — its SELECT grant on `accounts` lists every other column — so no
-- catalog statement can read or return a hash, even by mistake. Only `account_credentials`
-- below (SECURITY DEFINER: it runs as this schema's owner) reads one, for one email at a
-- time; only regional-db's sign-in code calls it (a catalog test keeps statements off it).
CREATE TABLE accounts (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email            text NOT NULL CHECK (email <> '' AND length(email) <= 254),
    role             text NOT NULL CHECK (role IN ('patient', 'practitioner', 'admin')),
    display_name     text NOT NULL CHECK (length(display_name) <= 200),
    -- A patient's account goes with the patient: erasure (Patient/$erase) and the
    -- retention job delete it too. A practitioner is deactivated, never deleted.
    patient_id       uuid REFERENCES patients (id) ON DELETE CASCADE,
    practitioner_id  uuid REFERENCES practitioners (id),
    password_hash    text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    disabled         boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at  timestamptz,
    CONSTRAINT accounts_patient_has_patient CHECK (role <> 'patient' OR patient_id IS NOT NULL),
    CONSTRAINT accounts_practitioner_has_practitioner
        CHECK (role <> 'practitioner' OR practitioner_id IS NOT NULL)
);
-- One account per email, whatever its case: sign-in looks emails up lower-cased.
CREATE UNIQUE INDEX accounts_email ON accounts (lower(email));
CREATE INDEX accounts_patient ON accounts (patient_id) WHERE patient_id IS NOT NULL;
CREATE INDEX accounts_practitioner ON accounts (practitioner_id) WHERE practitioner_id IS NOT NULL;

-- Failed sign-ins, counted per key: `email:<lower-cased email>` (known or not: an unknown
-- email is throttled exactly like a known one) and `client:<IP address>`. A window opens
-- at a key's first failure; reaching the limit within it locks the key until
-- `locked_until`. Counted by one upsert per key (race-safe: the row is locked while it is
-- updated); a success deletes its email's row.
CREATE TABLE sign_in_failures (
    key           text PRIMARY KEY CHECK (length(key) <= 300),
    failures      integer NOT NULL CHECK (failures > 0),
    window_start  timestamptz NOT NULL DEFAULT now(),
    locked_until  timestamptz
);
CREATE INDEX sign_in_failures_window ON sign_in_failures (window_start);

-- The one reader of password hashes: an account's credentials by lower-cased email.
CREATE OR REPLACE FUNCTION account_credentials(p_email text)
    RETURNS TABLE (id uuid, role text, display_name text, patient_id uuid,
                   practitioner_id uuid, disabled boolean, password_hash text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path FROM CURRENT AS $$
    SELECT a.id, a.role, a.display_name, a.patient_id, a.practitioner_id, a.disabled,
           a.password_hash
    FROM accounts a WHERE lower(a.email) = lower(p_email)
$$;
-- Functions are executable by PUBLIC by default; grants.rs grants it to the service alone.
REVOKE ALL ON FUNCTION account_credentials(text) FROM PUBLIC;
