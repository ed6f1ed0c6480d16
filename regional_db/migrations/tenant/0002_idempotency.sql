-- Idempotency keys of the clinic's writes (see shared/src/dataplane/wire.rs). A write batch
-- inserts its key first, in its own transaction: a concurrent duplicate waits on the primary
-- key until that transaction ends, then finds the row (and replays `results`) or, if the
-- first attempt rolled back, inserts it itself. `results` is filled before the commit, so a
-- committed row always has it.
--
-- Keys are kept at least 24 hours; older rows may be purged (`DELETE … WHERE created_at <
-- now() - interval '24 hours'`, by `idempotency_keys_created_at`). No job does it yet.
CREATE TABLE idempotency_keys (
    key          text PRIMARY KEY,
    -- SHA-256 (hex) of who sent what: the same key with another fingerprint is refused.
    fingerprint  text NOT NULL,
    -- The batch's results (`[{"rows": [...]}, ...]`), exactly as first answered.
    results      jsonb,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
