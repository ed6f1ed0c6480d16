-- Retention and erasure (shared/src/compliance/retention.rs; regional_db/src/jobs/retention.rs;
-- Patient/$erase in shared/src/api/erase.rs): the clinic's country, legal holds, the facts a
-- retention rule reads, the rule itself (the same arithmetic as `Rule::decide`, checked
-- against it by the job and by regional_db/tests/retention.rs), the purge and the erasure.
--
-- The rule's numbers always come from the platform's policies (`policy_for`), passed in as
-- jsonb `{"years", "from", "at_least_to_age", "after_death"}`; nothing here is law.

-- The clinic's country: its schema picks its own rule from the table an erasure's statement
-- holds (every country's, from the policies), whatever the edge knew (a cold edge does not
-- know the clinic's country). Written at creation, and by every `regional-db migrate` and
-- retention run from the directory.
CREATE TABLE clinic (
    one      boolean PRIMARY KEY DEFAULT true CHECK (one),
    country  text NOT NULL CHECK (country ~ '^[A-Z]{2}$')
);

-- A patient whose data must not be purged nor erased (litigation): the retention job and
-- $erase skip them and say so. The foreign key is a second guard: a held patient's row
-- cannot be deleted. Placed and lifted by `regional-db holds place|lift` (audited).
CREATE TABLE legal_holds (
    patient    uuid PRIMARY KEY CONSTRAINT legal_holds_patient_fkey REFERENCES patients (id),
    reason     text NOT NULL CHECK (btrim(reason) <> ''),
    placed_by  text NOT NULL,
    placed_at  timestamptz NOT NULL DEFAULT now()
);

-- The latest day a FHIR date or dateTime can mean: `1980` → 1980-12-31, `1980-02` → its
-- last day, a dateTime → the day after its local date (the UTC day is at most that).
-- NULL for NULL or anything else.
CREATE OR REPLACE FUNCTION fhir_date_latest(d text) RETURNS date
    LANGUAGE sql IMMUTABLE
    RETURN CASE
        WHEN d ~ '^[0-9]{4}$' THEN make_date(d::int, 12, 31)
        WHEN d ~ '^[0-9]{4}-[0-9]{2}$'
            THEN (make_date(substr(d, 1, 4)::int, substr(d, 6, 2)::int, 1)
                  + interval '1 month' - interval '1 day')::date
        WHEN d ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' THEN substr(d, 1, 10)::date + 1
        WHEN d ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN d::date
    END;

-- What a retention rule reads of patient `p` as of `now` (UTC days); see retention.rs.
-- The last entry is the latest of the record's opening and of every write to its
-- appointments, readings and consents (changes of contact details are not entries).
CREATE OR REPLACE FUNCTION retention_facts(p uuid, now timestamptz,
        OUT birth date, OUT death date, OUT last_visit date, OUT last_reading date,
        OUT last_entry date, OUT held boolean)
    LANGUAGE sql STABLE AS $$
    SELECT fhir_date_latest(pt.birth_date),
           fhir_date_latest(pt.resource->>'deceasedDateTime'),
           ((SELECT max(a.ends_at) FROM appointments a
              WHERE a.patient = p AND a.status IN ('arrived', 'fulfilled') AND a.starts_at <= now)
             AT TIME ZONE 'UTC')::date,
           ((SELECT max(o.effective) FROM observations o WHERE o.patient = p AND o.effective <= now)
             AT TIME ZONE 'UTC')::date,
           (greatest(pt.created_at,
                     (SELECT max(a.last_updated) FROM appointments a WHERE a.patient = p),
                     (SELECT max(o.last_updated) FROM observations o WHERE o.patient = p),
                     (SELECT max(c.last_updated) FROM consents c WHERE c.patient = p))
             AT TIME ZONE 'UTC')::date,
           EXISTS (SELECT 1 FROM legal_holds h WHERE h.patient = p)
    FROM patients pt WHERE pt.id = p
$$;

-- The day a period runs from (`Rule::anchor`). NULL for a rule it does not know: never due.
CREATE OR REPLACE FUNCTION retention_anchor(rule jsonb, last_visit date, last_reading date,
        last_entry date) RETURNS date
    LANGUAGE sql IMMUTABLE
    RETURN CASE rule->>'from'
        WHEN 'last-visit' THEN coalesce(last_visit, last_entry)
        WHEN 'treatment-end' THEN coalesce(greatest(last_visit, last_reading), last_entry)
        WHEN 'discharge' THEN coalesce(greatest(last_visit, last_reading), last_entry)
        WHEN 'last-entry' THEN last_entry
        WHEN 'dormancy' THEN last_entry
    END;

-- The first day the record may go (`Rule::decide`). `make_interval` is strict: a clause
-- whose number is null adds nothing.
CREATE OR REPLACE FUNCTION retention_keep_until(rule jsonb, birth date, death date, anchor date)
        RETURNS date
    LANGUAGE sql IMMUTABLE
    RETURN CASE
        WHEN death IS NOT NULL AND rule->>'after_death' IS NOT NULL
             AND death < (anchor + make_interval(years => (rule->>'after_death')::int))::date
            THEN (death + make_interval(years => (rule->>'after_death')::int))::date
        ELSE greatest(
            (anchor + make_interval(years => (rule->>'years')::int))::date,
            (coalesce(birth, anchor) + make_interval(years => (rule->>'at_least_to_age')::int))::date)
    END;

-- Purges patient `p`'s medical record when `rule` lets it go on `now`'s day and no legal
-- hold keeps it, deciding again under the patient's row lock (a visit recorded since the
-- caller looked keeps it). Purging deletes: the appointments (a future slot one held is
-- freed; past slots stay busy, the practitioner's history with no patient in it), the
-- readings, the consents, the cached answers that mention the patient, and the patient
-- row itself — with it every column it holds (names, identifiers, encrypted identifiers
-- alike). `outcome`: purged | kept | held | gone (no such patient).
CREATE OR REPLACE FUNCTION retention_purge(p uuid, rule jsonb, now timestamptz,
        OUT outcome text, OUT keep_until date, OUT appointments int, OUT slots_freed int,
        OUT observations int, OUT consents int, OUT cached int)
    LANGUAGE plpgsql AS $$
DECLARE
    f record;
    freed uuid[];
BEGIN
    PERFORM 1 FROM patients WHERE id = p FOR UPDATE;
    IF NOT FOUND THEN
        outcome := 'gone';
        RETURN;
    END IF;
    SELECT * INTO f FROM retention_facts(p, now);
    keep_until := retention_keep_until(rule, f.birth, f.death,
        retention_anchor(rule, f.last_visit, f.last_reading, f.last_entry));
    IF f.held THEN
        outcome := 'held';
        RETURN;
    END IF;
    IF keep_until IS NULL OR keep_until > (now AT TIME ZONE 'UTC')::date THEN
        outcome := 'kept';
        RETURN;
    END IF;
    -- Slots are freed after their appointments are gone (their guard checks for holders).
    WITH gone AS (DELETE FROM appointments a WHERE a.patient = p
                  RETURNING a.slot, a.status, a.starts_at)
    SELECT count(*)::int,
           coalesce(array_agg(g.slot) FILTER (WHERE appointment_holds(g.status) AND g.starts_at > now), '{}')
      INTO appointments, freed
      FROM gone g;
    UPDATE slots
        SET status = 'free', resource = jsonb_set(resource, '{status}', '"free"'),
            version_id = version_id + 1, last_updated = now()
        WHERE id = ANY(freed);
    GET DIAGNOSTICS slots_freed = ROW_COUNT;
    DELETE FROM observations o WHERE o.patient = p;
    GET DIAGNOSTICS observations = ROW_COUNT;
    DELETE FROM consents c WHERE c.patient = p;
    GET DIAGNOSTICS consents = ROW_COUNT;
    DELETE FROM idempotency_keys k WHERE strpos(k.results::text, p::text) > 0;
    GET DIAGNOSTICS cached = ROW_COUNT;
    DELETE FROM patients WHERE id = p;
    outcome := 'purged';
END
$$;

-- An erasure request (GDPR art. 17) for patient `p`: `rules` is every country's rule
-- (`rules_by_country`), `contact` the Patient elements that are contact details.
-- Under a legal hold nothing changes. A record past its retention is purged whole
-- (`retention_purge`). A record the law still keeps loses what is not part of it: its
-- contact details, its appointments that never held care (future bookings, whose slots
-- are freed, and cancellations), and the cached answers that mention the patient.
-- No row when the clinic has no such patient (another clinic's id included).
--
-- The facts come back only for a record still here (the answer's dates): the stored
-- answer of a purge (its idempotency key) holds nothing of the patient but the id.
CREATE OR REPLACE FUNCTION retention_erase(p uuid, rules jsonb, contact jsonb, now timestamptz)
    RETURNS TABLE (id uuid, country text, outcome text, birth date, death date,
                   last_visit date, last_reading date, last_entry date, keep_until date,
                   contact_erased boolean, appointments int, slots_freed int,
                   observations int, consents int, cached int)
    LANGUAGE plpgsql AS $$
DECLARE
    rule jsonb;
    f record;
    purged record;
    freed uuid[];
    elements text[] := ARRAY(SELECT jsonb_array_elements_text(contact));
BEGIN
    SELECT c.country INTO country FROM clinic c;
    IF country IS NULL THEN
        RAISE EXCEPTION 'clinic schema without its country: run regional-db migrate';
    END IF;
    rule := coalesce(rules -> country, rules -> '*');
    PERFORM 1 FROM patients pt WHERE pt.id = p FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    id := p;
    SELECT * INTO f FROM retention_facts(p, now);
    keep_until := retention_keep_until(rule, f.birth, f.death,
        retention_anchor(rule, f.last_visit, f.last_reading, f.last_entry));
    IF f.held THEN
        outcome := 'held';
    ELSIF keep_until IS NOT NULL AND keep_until <= (now AT TIME ZONE 'UTC')::date THEN
        SELECT * INTO purged FROM retention_purge(p, rule, now);
        outcome := purged.outcome;
        appointments := purged.appointments;
        slots_freed := purged.slots_freed;
        observations := purged.observations;
        consents := purged.consents;
        cached := purged.cached;
        contact_erased := true;
        keep_until := NULL;
        RETURN NEXT;
        RETURN;
    ELSE
        outcome := 'kept';
        -- Identity stays with the record (names, birth date, sex, identifiers — and with
        -- them any column derived from them); only contact elements leave the resource.
        UPDATE patients pt
            SET resource = pt.resource - elements,
                version_id = pt.version_id + 1, last_updated = now()
            WHERE pt.id = p AND pt.resource ?| elements;
        contact_erased := FOUND;
        WITH gone AS (DELETE FROM appointments a
                      WHERE a.patient = p
                        AND ((a.status = 'booked' AND a.starts_at > now) OR a.status = 'cancelled')
                      RETURNING a.slot, a.status)
        SELECT count(*)::int,
               coalesce(array_agg(g.slot) FILTER (WHERE appointment_holds(g.status)), '{}')
          INTO appointments, freed
          FROM gone g;
        UPDATE slots s
            SET status = 'free', resource = jsonb_set(s.resource, '{status}', '"free"'),
                version_id = s.version_id + 1, last_updated = now()
            WHERE s.id = ANY(freed);
        GET DIAGNOSTICS slots_freed = ROW_COUNT;
        DELETE FROM idempotency_keys k WHERE strpos(k.results::text, p::text) > 0;
        GET DIAGNOSTICS cached = ROW_COUNT;
        observations := 0;
        consents := 0;
    END IF;
    birth := f.birth;
    death := f.death;
    last_visit := f.last_visit;
    last_reading := f.last_reading;
    last_entry := f.last_entry;
    RETURN NEXT;
END
$$;
