-- Consent that gates processing (shared/src/compliance: `ConsentRule`, `CONSENT_RULE`).
--
-- The consents the clinic's country requires before each processing, one row per
-- (processing, consent kind), with the rule's source in words. Rewritten from the policy in
-- code when the clinic is created and on every `regional-db migrate`
-- (regional_db/src/provision.rs `sync_policy`), so the gates hold whatever the edge knows.
CREATE TABLE policy_consent_gates (
    processing  text NOT NULL,
    kind        text NOT NULL,
    citation    text NOT NULL,
    PRIMARY KEY (processing, kind)
);

-- Whether `patient` has a consent of `kind` in force at `at`: active, a category coding of
-- the platform's consent-kind system with that code, its provision period covering `at`,
-- and not a refusal (`provision.type` deny). R4 defines no enforcement algorithm; this is
-- the conservative reading (REFERENCE.md "Consent").
CREATE OR REPLACE FUNCTION consent_in_force(patient_id uuid, kind text, at timestamptz)
    RETURNS boolean LANGUAGE sql STABLE
    RETURN EXISTS (
        SELECT 1 FROM consents c
        WHERE c.patient = patient_id AND c.status = 'active'
          AND c.categories ? ('https://telemed-edge.health/fhir/CodeSystem/consent-kind|' || kind)
          AND (c.valid_from IS NULL OR c.valid_from <= at)
          AND (c.valid_to IS NULL OR c.valid_to > at)
          AND coalesce(c.resource->'provision'->>'type', 'permit') = 'permit');

-- Refuses `processing` of `patient_id` unless every consent the policy gates it with is in
-- force now: `"consent_required": <processing>|<kind>|<citation>`, which the edge answers
-- as 403 naming the consent and its source.
CREATE OR REPLACE FUNCTION require_consents(patient_id uuid, what text) RETURNS void
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    g record;
BEGIN
    FOR g IN SELECT kind, citation FROM policy_consent_gates WHERE processing = what ORDER BY kind LOOP
        IF NOT consent_in_force(patient_id, g.kind, now()) THEN
            RAISE EXCEPTION '"consent_required": %|%|%', what, g.kind, g.citation
                USING ERRCODE = 'check_violation';
        END IF;
    END LOOP;
END
$$;

-- Every appointment booked here is a teleconsultation (the platform's one kind of visit).
-- Named so that it fires before `appointments_book` (triggers fire in name order): a
-- refused booking never takes the slot's lock.
CREATE OR REPLACE FUNCTION appointment_consent_gate() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM require_consents(NEW.patient, 'teleconsultation');
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER appointment_consent_gate BEFORE INSERT ON appointments
    FOR EACH ROW EXECUTE FUNCTION appointment_consent_gate();
