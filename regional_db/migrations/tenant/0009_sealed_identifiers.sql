-- Encryption at rest of national identifiers (regional_db/src/vault.rs).
--
-- The clinic's data key, wrapped (AES-256-GCM) by one of the region's master keys, which
-- live in the region's configuration only. `regional-db keys rotate` re-wraps it under the
-- current master key: the data key itself, and so every ciphertext, is unchanged.
CREATE TABLE data_keys (
    id             smallint PRIMARY KEY CHECK (id > 0),
    wrapped        bytea NOT NULL,
    master_key_id  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    rewrapped_at   timestamptz
);

-- A patient's national identifiers, out of `resource`, sealed with the data key
-- (shared/src/api/sealed.rs); and every identifier's blind index (HMAC tokens), which the
-- `identifier` search reads.
ALTER TABLE patients
    ADD COLUMN sealed bytea,
    ADD COLUMN identifiers jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(identifiers) = 'array');
CREATE INDEX patients_identifiers ON patients USING gin (identifiers);
