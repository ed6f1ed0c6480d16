-- Consultation types flow from availability to bookings, so a clinic that bills
-- (0015_billing.sql) bills what the patient booked.
--
-- FHIR R4 Slot.serviceType: "the type of appointments that can be booked into this slot";
-- the slots generated from a Schedule carry its serviceType (`schedule.generate-slots`), and
-- an appointment that names no serviceType of its own takes its slot's here.

CREATE OR REPLACE FUNCTION appointments_service_type() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    offered jsonb;
BEGIN
    IF NEW.resource ? 'serviceType' THEN
        RETURN NEW;
    END IF;
    SELECT sl.resource->'serviceType' INTO offered FROM slots sl WHERE sl.id = NEW.slot;
    IF offered IS NOT NULL THEN
        NEW.resource := NEW.resource || jsonb_build_object('serviceType', offered);
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER appointments_service_type BEFORE INSERT ON appointments
    FOR EACH ROW EXECUTE FUNCTION appointments_service_type();
