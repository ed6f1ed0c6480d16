-- The audit trail, made tamper-evident and append-only (regional_db/src/audit.rs explains
-- the design; `regional-db audit verify --tenant SLUG` checks it).
--
-- Every record gets:
--   event_id   its FHIR AuditEvent id (a uuid, like every other resource id of the API);
--   outcome    `ok`, or the wire error code of a refused batch (recorded after its rollback);
--   edge       where the edge that asked ran (`<nearest region>/<colo>`), from the edge token;
--   patient    the Patient the record is about (a `Patient` record's id), for AuditEvent
--              search by patient and `Patient/{id}/$access-log`;
--   chain_seq  its place in the clinic's hash chain (1, 2, 3… without gaps);
--   hash       sha256(previous record's hash || canonical encoding of this record), the
--              first record chaining from 32 zero bytes.
ALTER TABLE audit_events
    ADD COLUMN event_id   uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN outcome    text NOT NULL DEFAULT 'ok',
    ADD COLUMN edge       text,
    ADD COLUMN patient    uuid,
    ADD COLUMN chain_seq  bigint,
    ADD COLUMN hash       bytea;

-- The canonical encoding of a record: each field as `<octet length>:<text>`, or `-` when it
-- is NULL, in this order: id, chain_seq, event_id, at (microseconds since the Unix epoch),
-- actor, action, statement, resource_type, resource_id, patient, outcome, edge, spool_id.
-- regional_db/src/audit.rs (`canonical`) writes the very same bytes; a test checks both agree.
CREATE OR REPLACE FUNCTION audit_canonical(
    id bigint, chain_seq bigint, event_id uuid, at timestamptz, actor text, action text,
    statement text, resource_type text, resource_id text, patient uuid, outcome text,
    edge text, spool_id text
) RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT convert_to(
        coalesce(octet_length(id::text) || ':' || id::text, '-') ||
        coalesce(octet_length(chain_seq::text) || ':' || chain_seq::text, '-') ||
        coalesce(octet_length(event_id::text) || ':' || event_id::text, '-') ||
        coalesce(octet_length(((extract(epoch FROM at) * 1000000)::bigint)::text) || ':' ||
                 ((extract(epoch FROM at) * 1000000)::bigint)::text, '-') ||
        coalesce(octet_length(actor) || ':' || actor, '-') ||
        coalesce(octet_length(action) || ':' || action, '-') ||
        coalesce(octet_length(statement) || ':' || statement, '-') ||
        coalesce(octet_length(resource_type) || ':' || resource_type, '-') ||
        coalesce(octet_length(resource_id) || ':' || resource_id, '-') ||
        coalesce(octet_length(patient::text) || ':' || patient::text, '-') ||
        coalesce(octet_length(outcome) || ':' || outcome, '-') ||
        coalesce(octet_length(edge) || ':' || edge, '-') ||
        coalesce(octet_length(spool_id) || ':' || spool_id, '-'),
        'UTF8')
$$;

-- Records written before this migration join the chain in their insertion order.
DO $$
DECLARE
    r record;
    n bigint := 0;
    prev bytea := decode(repeat('00', 32), 'hex');
    about uuid;
BEGIN
    FOR r IN SELECT * FROM audit_events ORDER BY id LOOP
        n := n + 1;
        about := CASE WHEN r.resource_type = 'Patient'
                       AND r.resource_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                      THEN r.resource_id::uuid END;
        prev := sha256(prev || audit_canonical(r.id, n, r.event_id, r.at, r.actor, r.action,
            r.statement, r.resource_type, r.resource_id, about, r.outcome, r.edge, r.spool_id));
        UPDATE audit_events SET chain_seq = n, patient = about, hash = prev WHERE id = r.id;
    END LOOP;
END $$;

ALTER TABLE audit_events ALTER COLUMN chain_seq SET NOT NULL, ALTER COLUMN hash SET NOT NULL;
CREATE UNIQUE INDEX audit_events_chain ON audit_events (chain_seq);
CREATE UNIQUE INDEX audit_events_event_id ON audit_events (event_id);
CREATE INDEX audit_events_patient ON audit_events (patient, at, chain_seq) WHERE patient IS NOT NULL;
CREATE INDEX audit_events_at_chain ON audit_events (at, chain_seq);

-- Appends each new record to the clinic's chain. The per-clinic advisory lock serialises
-- appenders from the first record a transaction inserts until it commits (regional-db
-- inserts a batch's records last, just before COMMIT, so the lock is held briefly). The
-- function is VOLATILE: under READ COMMITTED its look-up of the last record takes a fresh
-- snapshot after the lock, so it sees the record a previous holder committed. A transaction
-- with an older snapshot (REPEATABLE READ) would read a stale head: the unique index on
-- chain_seq then refuses its insert rather than letting the chain fork.
-- `SET search_path FROM CURRENT` pins the function to the clinic's schema it is created in
-- (the migration's search_path): a record inserted by an operator with another search_path
-- is chained all the same, and the statements below are static, so their plans are cached
-- for the session instead of being parsed and planned for every record (a Bundle of 100
-- readings appends 200 records).
CREATE OR REPLACE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
DECLARE
    last_seq bigint;
    last_hash bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('telemed-audit-chain:' || TG_TABLE_SCHEMA, 0));
    SELECT chain_seq, hash INTO last_seq, last_hash
        FROM audit_events ORDER BY chain_seq DESC LIMIT 1;
    IF NEW.patient IS NULL AND NEW.resource_type = 'Patient'
       AND NEW.resource_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        NEW.patient := NEW.resource_id::uuid;
    END IF;
    NEW.chain_seq := coalesce(last_seq, 0) + 1;
    NEW.hash := sha256(coalesce(last_hash, decode(repeat('00', 32), 'hex')) ||
        audit_canonical(NEW.id, NEW.chain_seq, NEW.event_id, NEW.at, NEW.actor, NEW.action,
            NEW.statement, NEW.resource_type, NEW.resource_id, NEW.patient, NEW.outcome,
            NEW.edge, NEW.spool_id));
    RETURN NEW;
END $$;
CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_chain();

-- Append-only, in depth: the service's database role holds no UPDATE, DELETE or TRUNCATE
-- grant on this table (regional_db/src/audit.rs, `grant_service`); this trigger refuses them
-- to every role that owns or was granted more. Only a superuser can step around it
-- (`session_replication_role = replica`, or disabling the trigger) — which the hash chain
-- then shows to `regional-db audit verify`.
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- The trail as FHIR R4 AuditEvent resources (shared/src/api/resources/audit_event.rs): the
-- five columns every resource "table" of the API has (id, seq, version_id, last_updated,
-- resource), and those its search parameters read. Read-only: the API offers no write.
-- Actions map to AuditEvent.action: create C, read R, update U, delete D, export R (data
-- leaving, as DICOM's Export event), search and anything else E (a query is executed).
CREATE VIEW audit_event_resources AS
SELECT e.event_id AS id,
       e.chain_seq AS seq,
       1 AS version_id,
       e.at AS last_updated,
       e.at AS recorded,
       e.patient,
       jsonb_build_array('|' || e.actor) AS agents,
       CASE e.action WHEN 'create' THEN 'C' WHEN 'read' THEN 'R' WHEN 'update' THEN 'U'
                     WHEN 'delete' THEN 'D' WHEN 'export' THEN 'R' ELSE 'E' END AS action,
       jsonb_strip_nulls(jsonb_build_object(
           'resourceType', 'AuditEvent',
           'type', jsonb_build_object(
               'system', 'http://terminology.hl7.org/CodeSystem/audit-event-type',
               'code', 'rest', 'display', 'RESTful Operation'),
           'subtype', jsonb_build_array(
               jsonb_build_object(
                   'system', 'http://hl7.org/fhir/restful-interaction',
                   'code', CASE e.action WHEN 'read' THEN 'read' WHEN 'search' THEN 'search-type'
                                         WHEN 'create' THEN 'create' WHEN 'update' THEN 'update'
                                         WHEN 'delete' THEN 'delete' ELSE 'operation' END),
               jsonb_build_object('system', 'urn:telemed:audit:action', 'code', e.action),
               jsonb_build_object('system', 'urn:telemed:audit:statement', 'code', e.statement)),
           'action', CASE e.action WHEN 'create' THEN 'C' WHEN 'read' THEN 'R' WHEN 'update' THEN 'U'
                                   WHEN 'delete' THEN 'D' WHEN 'export' THEN 'R' ELSE 'E' END,
           'recorded', e.at,
           'outcome', CASE WHEN e.outcome = 'ok' THEN '0'
                           WHEN e.outcome IN ('internal', 'unavailable', 'overloaded') THEN '8'
                           ELSE '4' END,
           'outcomeDesc', NULLIF(e.outcome, 'ok'),
           'agent', jsonb_build_array(jsonb_build_object(
               'who', jsonb_build_object(
                   'identifier', jsonb_build_object('system', 'urn:telemed:subject', 'value', e.actor),
                   'display', e.actor),
               'requestor', true)),
           'source', jsonb_build_object(
               'site', e.edge,
               'observer', jsonb_build_object(
                   'display', 'Telemed Edge ' || coalesce(e.edge, '(location not reported)')),
               'type', jsonb_build_array(jsonb_build_object(
                   'system', 'http://terminology.hl7.org/CodeSystem/security-source-type',
                   'code', '4', 'display', 'Application Server'))),
           'entity', CASE WHEN e.resource_type IS NOT NULL AND e.resource_id IS NOT NULL THEN
               jsonb_build_array(jsonb_build_object(
                   'what', jsonb_build_object('reference', e.resource_type || '/' || e.resource_id),
                   'type', jsonb_build_object(
                       'system', 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
                       'code', CASE WHEN e.resource_type = 'Patient' THEN '1' ELSE '2' END,
                       'display', CASE WHEN e.resource_type = 'Patient' THEN 'Person' ELSE 'System Object' END)))
           END
       )) AS resource
FROM audit_events e;
