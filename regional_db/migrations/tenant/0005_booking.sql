-- Booking: FHIR Schedule, Slot and Appointment (shared/src/api/resources/{schedule,slot,
-- appointment}.rs). What depends on other rows is enforced here, where it holds under
-- concurrency: a slot is booked by one appointment only, a practitioner is never booked
-- twice for overlapping times, status changes follow the allowed transitions, and every
-- reference points into this clinic's own schema (foreign keys: another clinic's id is
-- simply not there). Errors name their rule in double quotes, as constraint violations
-- do, so the edge words each one (`DbRule` in shared/src/api/resource.rs).

-- The exclusion constraint compares a uuid with `=` in a GiST index: btree_gist (a
-- trusted extension), created once per database in `public` by the first clinic migrated
-- there; two clinics created at once may race to create it, and one finds it made.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;
EXCEPTION WHEN unique_violation OR duplicate_object THEN
    NULL;
END
$$;

CREATE TABLE schedules (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    version_id    integer NOT NULL DEFAULT 1,
    resource      jsonb NOT NULL CHECK (resource->>'resourceType' = 'Schedule'),
    last_updated  timestamptz NOT NULL DEFAULT now(),
    practitioner  uuid NOT NULL CONSTRAINT schedules_practitioner_fkey REFERENCES practitioners (id),
    active        boolean
);
CREATE INDEX schedules_by_practitioner ON schedules (practitioner);

CREATE TABLE slots (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    version_id    integer NOT NULL DEFAULT 1,
    resource      jsonb NOT NULL CHECK (resource->>'resourceType' = 'Slot'),
    last_updated  timestamptz NOT NULL DEFAULT now(),
    schedule      uuid NOT NULL CONSTRAINT slots_schedule_fkey REFERENCES schedules (id),
    status        text NOT NULL
        CHECK (status IN ('busy', 'free', 'busy-unavailable', 'busy-tentative', 'entered-in-error')),
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    CONSTRAINT slots_start_before_end CHECK (starts_at < ends_at),
    CONSTRAINT slots_one_per_start UNIQUE (schedule, starts_at)
);
CREATE INDEX slots_by_start ON slots (starts_at);

-- Statuses that hold a slot (and the practitioner's time).
CREATE OR REPLACE FUNCTION appointment_holds(status text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    RETURN status IN ('booked', 'arrived', 'fulfilled', 'noshow');

CREATE TABLE appointments (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    version_id    integer NOT NULL DEFAULT 1,
    resource      jsonb NOT NULL CHECK (resource->>'resourceType' = 'Appointment'),
    last_updated  timestamptz NOT NULL DEFAULT now(),
    slot          uuid NOT NULL CONSTRAINT appointments_slot_fkey REFERENCES slots (id),
    patient       uuid NOT NULL CONSTRAINT appointments_patient_fkey REFERENCES patients (id),
    -- The slot's schedule's, set by the trigger below (a client's claim is checked).
    practitioner  uuid CONSTRAINT appointments_practitioner_fkey REFERENCES practitioners (id),
    status        text NOT NULL,
    -- The slot's times, set by the trigger below.
    starts_at     timestamptz,
    ends_at       timestamptz,
    CONSTRAINT appointments_no_double_booking EXCLUDE USING gist (
        practitioner public.gist_uuid_ops WITH =,
        tstzrange(starts_at, ends_at) WITH &&
    ) WHERE (appointment_holds(status))
);
CREATE UNIQUE INDEX appointments_one_per_slot ON appointments (slot) WHERE appointment_holds(status);
CREATE INDEX appointments_by_start ON appointments (starts_at);
CREATE INDEX appointments_by_patient ON appointments (patient);
CREATE INDEX appointments_by_practitioner ON appointments (practitioner, starts_at);

-- An instant as the API writes it: UTC, seconds, `Z`.
CREATE OR REPLACE FUNCTION fhir_instant(t timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');

-- Booking: the appointment takes its slot, which must be free, in the same statement.
-- Concurrent bookings of one slot queue on the slot's row lock; the first commits, the
-- others find it busy and fail with "appointments_slot_free" (409).
CREATE OR REPLACE FUNCTION appointments_book() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    s record;
BEGIN
    IF NEW.status <> 'booked' THEN
        RAISE EXCEPTION '"appointments_created_booked": %', NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT sl.starts_at, sl.ends_at, sc.practitioner INTO s
        FROM slots sl JOIN schedules sc ON sc.id = sl.schedule
        WHERE sl.id = NEW.slot;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'insert on table "appointments" violates foreign key constraint "appointments_slot_fkey"'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF NEW.practitioner IS NOT NULL AND NEW.practitioner <> s.practitioner THEN
        RAISE EXCEPTION '"appointments_slot_practitioner"' USING ERRCODE = 'check_violation';
    END IF;
    UPDATE slots
        SET status = 'busy', resource = jsonb_set(resource, '{status}', '"busy"'),
            version_id = version_id + 1, last_updated = now()
        WHERE id = NEW.slot AND status = 'free';
    IF NOT FOUND THEN
        RAISE EXCEPTION '"appointments_slot_free"' USING ERRCODE = 'unique_violation';
    END IF;
    NEW.practitioner := s.practitioner;
    NEW.starts_at := s.starts_at;
    NEW.ends_at := s.ends_at;
    NEW.resource := NEW.resource || jsonb_build_object(
        'start', fhir_instant(s.starts_at), 'end', fhir_instant(s.ends_at));
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER appointments_book BEFORE INSERT ON appointments
    FOR EACH ROW EXECUTE FUNCTION appointments_book();

-- Updates: slot, patient and times are fixed; the status follows
-- booked → arrived → fulfilled, booked → cancelled, booked → noshow.
CREATE OR REPLACE FUNCTION appointments_transition() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.slot <> OLD.slot OR NEW.patient <> OLD.patient
       OR (NEW.practitioner IS NOT NULL AND NEW.practitioner <> OLD.practitioner) THEN
        RAISE EXCEPTION '"appointments_fixed"' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status <> OLD.status AND (OLD.status, NEW.status) NOT IN (
        ('booked', 'arrived'), ('arrived', 'fulfilled'), ('booked', 'cancelled'), ('booked', 'noshow')
    ) THEN
        RAISE EXCEPTION '"appointments_status_transition": % -> %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    NEW.practitioner := OLD.practitioner;
    NEW.starts_at := OLD.starts_at;
    NEW.ends_at := OLD.ends_at;
    NEW.resource := NEW.resource || jsonb_build_object(
        'start', fhir_instant(OLD.starts_at), 'end', fhir_instant(OLD.ends_at));
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER appointments_transition BEFORE UPDATE ON appointments
    FOR EACH ROW EXECUTE FUNCTION appointments_transition();

-- A cancelled appointment frees its slot (after the row changed, so the slot's own check
-- below sees no appointment holding it).
CREATE OR REPLACE FUNCTION appointments_free_slot() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE slots
        SET status = 'free', resource = jsonb_set(resource, '{status}', '"free"'),
            version_id = version_id + 1, last_updated = now()
        WHERE id = NEW.slot;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER appointments_free_slot AFTER UPDATE OF status ON appointments
    FOR EACH ROW WHEN (NEW.status = 'cancelled' AND OLD.status <> 'cancelled')
    EXECUTE FUNCTION appointments_free_slot();

-- A slot an appointment holds stays busy, at its times, on its schedule.
CREATE OR REPLACE FUNCTION slots_guard() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.status <> 'busy' OR NEW.starts_at <> OLD.starts_at OR NEW.ends_at <> OLD.ends_at
        OR NEW.schedule <> OLD.schedule)
       AND EXISTS (SELECT 1 FROM appointments a WHERE a.slot = OLD.id AND appointment_holds(a.status)) THEN
        RAISE EXCEPTION '"slots_held"' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER slots_guard BEFORE UPDATE ON slots
    FOR EACH ROW EXECUTE FUNCTION slots_guard();
