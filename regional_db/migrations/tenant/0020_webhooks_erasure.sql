-- Erasure and the webhook outbox (issue 11): when a patient is erased, the outbox keeps
-- nothing about them. Payloads carry ids only (0017), but an event's ids still say that
-- this patient booked, cancelled or had a reading taken here, and when: once the patient
-- is erased, their events go, and with them (ON DELETE CASCADE) their deliveries, pending
-- or past, and the attempt log of those.
--
-- Every event about a patient's resources names the patient (`data.patient`, written by
-- the triggers of 0017): that key is how they are found. A new event type about a
-- patient's data must name its patient too.
--
-- Two ways in, both in the transaction that erases:
-- - `Patient/$erase` calls `webhook_forget_patient` in its statement
--   (shared/src/api/erase.rs), after `retention_erase`, unless a legal hold kept
--   everything (the hold keeps the outbox too, as it keeps the rest);
-- - a patient row deleted by any path (a purge past retention, by `$erase` or by the
--   retention job) takes its events with it (the trigger below).

CREATE INDEX IF NOT EXISTS outbox_events_patient ON outbox_events ((payload ->> 'patient'));

-- Deletes patient `p`'s events (the service may not delete from the append-only outbox:
-- this runs as the schema's owner, and does this one thing). `outcome` is the erasure's:
-- `held` keeps everything. Returns how many events went.
CREATE OR REPLACE FUNCTION webhook_forget_patient(p uuid, outcome text) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path FROM CURRENT AS $$
DECLARE
    n integer;
BEGIN
    IF p IS NULL OR outcome IS NULL OR outcome = 'held' THEN
        RETURN 0;
    END IF;
    DELETE FROM outbox_events o WHERE o.payload ->> 'patient' = 'Patient/' || p::text;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
REVOKE ALL ON FUNCTION webhook_forget_patient(uuid, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION webhook_patient_deleted() RETURNS trigger
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM webhook_forget_patient(OLD.id, 'purged');
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER patients_webhook_forget AFTER DELETE ON patients
    FOR EACH ROW EXECUTE FUNCTION webhook_patient_deleted();
