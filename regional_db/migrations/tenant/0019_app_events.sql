-- Apps in the webhook outbox (issue 11, the marketplace): `app.installed` and
-- `app.uninstalled` events, and the endpoint an installed app owns.
--
-- An app's endpoint (`webhook_endpoints.app`) is made or updated by the install's batch
-- (shared/src/apps.rs), subscribed only to the data events the clinic's grant lets the app
-- read (`telemed_shared::apps::events_allowed`), and disabled by the uninstall's.
-- `app.*` events reach the clinic's own endpoints and the endpoint of the app they are
-- about, never another app's: one app does not learn which other apps a clinic runs.

ALTER TABLE webhook_endpoints DROP CONSTRAINT IF EXISTS webhook_endpoints_event_types_check;
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_event_types_check CHECK (
    cardinality(event_types) > 0
    AND event_types <@ ARRAY['appointment.booked', 'appointment.cancelled',
                             'observation.created', 'patient.created',
                             'app.installed', 'app.uninstalled']::text[]);

-- One endpoint per app: reinstalling updates it.
CREATE UNIQUE INDEX IF NOT EXISTS webhook_endpoints_one_per_app
    ON webhook_endpoints (app) WHERE app IS NOT NULL;

CREATE OR REPLACE FUNCTION webhook_emit(p_type text, p_data jsonb) RETURNS void
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    v_id uuid := gen_random_uuid();
    -- The app an `app.*` event is about: only its endpoint (and the clinic's) take it.
    v_app uuid := CASE WHEN p_type LIKE 'app.%' THEN (p_data ->> 'app')::uuid END;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhook_endpoints e
                   WHERE e.disabled_at IS NULL AND p_type = ANY (e.event_types)
                     AND (v_app IS NULL OR e.app IS NULL OR e.app = v_app)) THEN
        RETURN;
    END IF;
    INSERT INTO outbox_events (id, type, payload) VALUES (v_id, p_type, p_data);
    INSERT INTO webhook_deliveries (endpoint, event)
        SELECT e.id, v_id FROM webhook_endpoints e
        WHERE e.disabled_at IS NULL AND p_type = ANY (e.event_types)
          AND (v_app IS NULL OR e.app IS NULL OR e.app = v_app);
END $$;

-- `app.installed` on a first install, a reinstall and a new grant (installed_at moves);
-- `app.uninstalled` when an installed app is uninstalled. Ids and scopes only.
CREATE OR REPLACE FUNCTION webhook_app_event() RETURNS trigger
    LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    v_type text;
BEGIN
    IF NEW.status = 'installed' AND (TG_OP = 'INSERT' OR OLD.status <> 'installed'
                                     OR OLD.installed_at <> NEW.installed_at) THEN
        v_type := 'app.installed';
    ELSIF TG_OP = 'UPDATE' AND NEW.status = 'uninstalled' AND OLD.status = 'installed' THEN
        v_type := 'app.uninstalled';
    ELSE
        RETURN NULL;
    END IF;
    PERFORM webhook_emit(v_type, jsonb_build_object(
        'app', NEW.app, 'client_id', NEW.client_id, 'scope', NEW.granted_scopes));
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER app_installations_webhook AFTER INSERT OR UPDATE ON app_installations
    FOR EACH ROW EXECUTE FUNCTION webhook_app_event();
