-- Audit events of reads served while the primary was down are spooled on the regional-db
-- instance's disk and inserted here once the primary is back (regional_db/src/audit_spool.rs).
-- `spool_id` is their identity: a drain repeated after a crash inserts nothing twice. Events
-- written directly, in their batch's transaction, have none.
ALTER TABLE audit_events ADD COLUMN spool_id text;
CREATE UNIQUE INDEX audit_events_spool_id ON audit_events (spool_id) WHERE spool_id IS NOT NULL;
