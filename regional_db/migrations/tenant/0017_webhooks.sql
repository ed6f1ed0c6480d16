-- Webhooks (Standard Webhooks 1.0): a transactional outbox, the clinic's endpoints and the
-- deliveries the region's job makes (regional_db/src/jobs/webhooks.rs).
--
-- The triggers below write the event in the same transaction as the change it announces,
-- and fan it out there to one delivery per enabled endpoint subscribed to its type: a
-- change that commits has its deliveries, a rolled-back one has none, and a crash between
-- the change and the job loses nothing. The event's id is the `webhook-id` of every
-- attempt of every delivery of it: receivers dedupe on it.
--
-- Payloads carry ids only (FHIR references), never names, birth dates or readings: a
-- receiver fetches what its access allows through the API.

-- A clinic's receivers. `secret_sealed` is the `whsec_` key (its decoded bytes) sealed with
-- the clinic's data key (regional_db/src/vault.rs), and the service's role may not even
-- select it (grants.rs, SECRET_COLUMNS): no catalog statement can return it. Only
-- `webhook_endpoint_secret` below reads it, for the delivery job.
CREATE TABLE webhook_endpoints (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    url              text NOT NULL CHECK (url ~ '^https?://[^\s]+$' AND length(url) <= 2048),
    secret_sealed    bytea NOT NULL,
    event_types      text[] NOT NULL CHECK (
        cardinality(event_types) > 0
        AND event_types <@ ARRAY['appointment.booked', 'appointment.cancelled',
                                 'observation.created', 'patient.created']::text[]),
    description      text CHECK (length(description) <= 200),
    -- The app that owns the endpoint, once apps exist (issue 11); null: the clinic's own.
    app              uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- Set when a receiver answers 410 Gone (or an operator disables it): no new
    -- deliveries are made for it and its pending ones wait until it is enabled again.
    disabled_at      timestamptz,
    disabled_reason  text,
    CHECK ((disabled_at IS NULL) = (disabled_reason IS NULL))
);

-- Events, in the order they were written. Append-only for the service.
CREATE TABLE outbox_events (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    type        text NOT NULL,
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One delivery per (endpoint, event): its state and its next attempt. `attempts` counts
-- the attempts made (a claim increments it and leases the row by moving
-- `next_attempt_at` past the request's timeout, so a crashed sender's claim comes back).
CREATE TABLE webhook_deliveries (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint          uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event             uuid NOT NULL REFERENCES outbox_events (id) ON DELETE CASCADE,
    attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    status            text NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'delivered', 'failed')),
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    last_status_code  integer,
    last_error        text,
    delivered_at      timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (endpoint, event)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';

-- The delivery log: one row per attempt. Append-only for the service.
CREATE TABLE webhook_attempts (
    delivery     bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt      integer NOT NULL,
    at           timestamptz NOT NULL,
    status_code  integer,
    error        text,
    duration_ms  integer NOT NULL,
    PRIMARY KEY (delivery, attempt)
);

-- The sealed secret of one endpoint, for the delivery job (runs as the schema's owner;
-- grants.rs grants it to the service alone, and no catalog statement calls it).
CREATE OR REPLACE FUNCTION webhook_endpoint_secret(p_endpoint uuid) RETURNS bytea
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path FROM CURRENT AS $$
    SELECT secret_sealed FROM webhook_endpoints WHERE id = p_endpoint
$$;
REVOKE ALL ON FUNCTION webhook_endpoint_secret(uuid) FROM PUBLIC;

-- Writes an event and its deliveries, in the caller's transaction. An event no enabled
-- endpoint takes is not stored at all: nothing would deliver it, and a clinic without
-- subscribers (or a 1,000-reading Bundle nobody listens to) pays one probe of the few
-- endpoint rows per change instead of a row per change.
CREATE OR REPLACE FUNCTION webhook_emit(p_type text, p_data jsonb) RETURNS void
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    v_id uuid := gen_random_uuid();
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhook_endpoints e
                   WHERE e.disabled_at IS NULL AND p_type = ANY (e.event_types)) THEN
        RETURN;
    END IF;
    INSERT INTO outbox_events (id, type, payload) VALUES (v_id, p_type, p_data);
    INSERT INTO webhook_deliveries (endpoint, event)
        SELECT e.id, v_id FROM webhook_endpoints e
        WHERE e.disabled_at IS NULL AND p_type = ANY (e.event_types);
END $$;

CREATE OR REPLACE FUNCTION webhook_appointment_event() RETURNS trigger
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM webhook_emit(
        CASE WHEN TG_OP = 'INSERT' THEN 'appointment.booked' ELSE 'appointment.cancelled' END,
        jsonb_strip_nulls(jsonb_build_object(
            'appointment', 'Appointment/' || NEW.id,
            'patient', 'Patient/' || NEW.patient,
            'practitioner', 'Practitioner/' || NEW.practitioner,
            'slot', 'Slot/' || NEW.slot)));
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER appointments_webhook_booked AFTER INSERT ON appointments
    FOR EACH ROW EXECUTE FUNCTION webhook_appointment_event();
CREATE OR REPLACE TRIGGER appointments_webhook_cancelled AFTER UPDATE OF status ON appointments
    FOR EACH ROW WHEN (NEW.status = 'cancelled' AND OLD.status <> 'cancelled')
    EXECUTE FUNCTION webhook_appointment_event();

CREATE OR REPLACE FUNCTION webhook_observation_created() RETURNS trigger
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM webhook_emit('observation.created', jsonb_build_object(
        'observation', 'Observation/' || NEW.id,
        'patient', 'Patient/' || NEW.patient));
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER observations_webhook_created AFTER INSERT ON observations
    FOR EACH ROW EXECUTE FUNCTION webhook_observation_created();

CREATE OR REPLACE FUNCTION webhook_patient_created() RETURNS trigger
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM webhook_emit('patient.created', jsonb_build_object('patient', 'Patient/' || NEW.id));
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER patients_webhook_created AFTER INSERT ON patients
    FOR EACH ROW EXECUTE FUNCTION webhook_patient_created();
