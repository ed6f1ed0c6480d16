-- Prices and invoices (shared/src/api/resources/{charge_item_definition,invoice}.rs,
-- shared/src/billing.rs). Amounts are NUMERIC, copied from the resource's JSON number (jsonb
-- keeps a number's digits and scale: 1234.50 stays 1234.50), never through a float.
--
-- What the edge cannot always know holds here: the clinic's billing currency and its minor
-- units (a cold edge has no directory entry), one active price per consultation type
-- (concurrent writes), and the invoice of a fulfilled appointment (the status change and the
-- invoice commit together, once).

-- The clinic's billing currency (the directory's `currency`) and its ISO 4217 minor units
-- (shared/src/money/currency.rs). Rewritten when the clinic is created and by every
-- `regional-db migrate` (regional_db/src/provision.rs `sync_billing`); the service only
-- reads it.
CREATE TABLE clinic_billing (
    one          boolean PRIMARY KEY DEFAULT true CHECK (one),
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    minor_units  integer NOT NULL CHECK (minor_units BETWEEN 0 AND 4)
);

-- FHIR ChargeItemDefinition: the price of one consultation type. `code` is the
-- consultation-type coding (`system|code`), filled by the edge; `amount` and `currency` are
-- read from `propertyGroup[0].priceComponent[0].amount` by the trigger below, so they never
-- disagree with the resource.
CREATE TABLE charge_item_definitions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    version_id    integer NOT NULL DEFAULT 1,
    resource      jsonb NOT NULL CHECK (resource->>'resourceType' = 'ChargeItemDefinition'),
    last_updated  timestamptz NOT NULL DEFAULT now(),
    code          text,
    status        text NOT NULL CHECK (status IN ('draft', 'active', 'retired', 'unknown')),
    amount        numeric,
    currency      text,
    CONSTRAINT charge_item_definitions_priced CHECK (code IS NOT NULL AND amount IS NOT NULL AND currency IS NOT NULL),
    CONSTRAINT charge_item_definitions_amount_positive CHECK (amount > 0)
);
-- At most one active price per consultation type: what an invoice charges is never ambiguous.
CREATE UNIQUE INDEX charge_item_definitions_one_active_price
    ON charge_item_definitions (code) WHERE status = 'active';

-- Fills `amount` and `currency` from the resource and checks them against the clinic's
-- billing currency: `"<rule>": <detail>`, which the edge words (`DbRule`).
CREATE OR REPLACE FUNCTION charge_item_definition_amount() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    billing record;
    money jsonb := NEW.resource #> '{propertyGroup,0,priceComponent,0,amount}';
BEGIN
    IF jsonb_typeof(money->'value') IS DISTINCT FROM 'number' THEN
        RAISE EXCEPTION '"charge_item_definitions_priced": no amount'
            USING ERRCODE = 'check_violation';
    END IF;
    NEW.amount := (money->>'value')::numeric;
    NEW.currency := money->>'currency';
    SELECT * INTO billing FROM clinic_billing;
    IF billing IS NULL THEN
        RAISE EXCEPTION 'clinic schema without its billing currency: run regional-db migrate';
    END IF;
    IF NEW.currency IS DISTINCT FROM billing.currency THEN
        RAISE EXCEPTION '"charge_item_definitions_currency": % is not %',
            coalesce(NEW.currency, 'no currency'), billing.currency
            USING ERRCODE = 'check_violation';
    END IF;
    IF round(NEW.amount, billing.minor_units) <> NEW.amount THEN
        RAISE EXCEPTION '"charge_item_definitions_minor_units": % % has at most % decimals',
            NEW.amount, billing.currency, billing.minor_units
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER charge_item_definition_amount
    BEFORE INSERT OR UPDATE ON charge_item_definitions
    FOR EACH ROW EXECUTE FUNCTION charge_item_definition_amount();

-- FHIR Invoice: issued by the database when an appointment is fulfilled (below), never
-- created through the API. One per appointment (unique). The record's purge at the end of
-- its retention takes its invoices with it (ON DELETE CASCADE); an erasure that keeps the
-- record deletes only future and cancelled appointments, which have none.
CREATE TABLE invoices (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    version_id    integer NOT NULL DEFAULT 1,
    resource      jsonb NOT NULL CHECK (resource->>'resourceType' = 'Invoice'),
    last_updated  timestamptz NOT NULL DEFAULT now(),
    patient       uuid NOT NULL CONSTRAINT invoices_patient_fkey REFERENCES patients (id) ON DELETE CASCADE,
    status        text NOT NULL,
    appointment   uuid NOT NULL CONSTRAINT invoices_appointment_fkey REFERENCES appointments (id) ON DELETE CASCADE,
    code          text NOT NULL,
    amount        numeric NOT NULL CHECK (amount > 0),
    currency      text NOT NULL,
    issued        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT invoices_one_per_appointment UNIQUE (appointment)
);
CREATE INDEX invoices_by_patient ON invoices (patient, issued);

-- The link an Invoice keeps to its Appointment: R4 Invoice has no element for it.
CREATE OR REPLACE FUNCTION invoice_appointment_extension() RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN 'https://telemed-edge.health/fhir/StructureDefinition/invoice-appointment';

-- When an appointment becomes `fulfilled`, its invoice: the active price of its consultation
-- type (`serviceType`, coded in the platform's consultation-type system), in the clinic's
-- currency. Once: a second fulfilment finds the invoice there (`ON CONFLICT DO NOTHING`).
--
-- Billing starts with the clinic's first price: a clinic with no ChargeItemDefinition at all
-- does not bill through the platform, and its fulfilments issue nothing. Once it has one, a
-- fulfilment that no active price covers (no consultation type, several, or an unpriced one)
-- is refused — `"appointments_priced"` — so no consultation is ever fulfilled unbilled.
CREATE OR REPLACE FUNCTION appointment_invoice() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    codes text[];
    price record;
    total jsonb;
BEGIN
    IF NEW.status <> 'fulfilled' OR OLD.status = 'fulfilled' THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM invoices WHERE appointment = NEW.id) THEN
        RETURN NULL;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM charge_item_definitions) THEN
        RETURN NULL;
    END IF;
    codes := ARRAY(
        SELECT DISTINCT (c->>'system') || '|' || (c->>'code')
        FROM jsonb_array_elements(coalesce(NEW.resource->'serviceType', '[]')) st,
             jsonb_array_elements(coalesce(st->'coding', '[]')) c
        WHERE c->>'system' = 'https://telemed-edge.health/fhir/CodeSystem/consultation-type');
    IF cardinality(codes) <> 1 THEN
        RAISE EXCEPTION '"appointments_priced": % consultation types', cardinality(codes)
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT d.code, d.amount, d.currency, d.resource->'code' AS concept INTO price
        FROM charge_item_definitions d WHERE d.code = codes[1] AND d.status = 'active';
    IF NOT FOUND THEN
        RAISE EXCEPTION '"appointments_priced": no active price for %', codes[1]
            USING ERRCODE = 'check_violation';
    END IF;
    total := jsonb_build_object('value', price.amount, 'currency', price.currency);
    INSERT INTO invoices (resource, patient, status, appointment, code, amount, currency, issued)
    VALUES (
        jsonb_strip_nulls(jsonb_build_object(
            'resourceType', 'Invoice',
            'extension', jsonb_build_array(jsonb_build_object(
                'url', invoice_appointment_extension(),
                'valueReference', jsonb_build_object('reference', 'Appointment/' || NEW.id))),
            'status', 'issued',
            'subject', jsonb_build_object('reference', 'Patient/' || NEW.patient),
            'date', fhir_instant(now()),
            'participant', CASE WHEN NEW.practitioner IS NOT NULL THEN jsonb_build_array(
                jsonb_build_object('actor', jsonb_build_object(
                    'reference', 'Practitioner/' || NEW.practitioner))) END,
            'lineItem', jsonb_build_array(jsonb_build_object(
                'sequence', 1,
                'chargeItemCodeableConcept', price.concept,
                'priceComponent', jsonb_build_array(jsonb_build_object(
                    'type', 'base', 'amount', total)))),
            'totalNet', total,
            'totalGross', total)),
        NEW.patient, 'issued', NEW.id, price.code, price.amount, price.currency, now())
    ON CONFLICT (appointment) DO NOTHING;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER appointment_invoice
    AFTER UPDATE OF status ON appointments
    FOR EACH ROW EXECUTE FUNCTION appointment_invoice();
