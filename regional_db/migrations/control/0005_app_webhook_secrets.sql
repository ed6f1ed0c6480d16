-- An app's webhook signing secret (issue 11): the `whsec_` key (its decoded bytes) that
-- `regional-db apps add` draws and prints once. Every clinic that installs the app gets an
-- endpoint owned by the app carrying this key sealed with the clinic's own data key, so the
-- app verifies every clinic's deliveries with the one secret it was given.
--
-- The control plane has no data key of its own, so the key is kept here in clear, and
-- guarded as the clinics' sealed secrets are: the service's role may select every column
-- of control.apps but this one (regional_db/src/grants.rs, CONTROL_SECRET_COLUMNS), so no
-- catalog statement can return it. Only `app_webhook_secret` below reads it: the region
-- calls it when an install's batch carries a parameter of type `AppWebhookSecret`, and
-- seals what it returns with the clinic's key before binding it.
-- Subscribers (every region's copy of control.apps) run this migration before the control
-- plane does: logical replication needs their table to have the column.
ALTER TABLE control.apps
    ADD COLUMN webhook_secret bytea CHECK (length(webhook_secret) BETWEEN 24 AND 64),
    ADD CONSTRAINT apps_webhook_has_secret CHECK ((webhook_url IS NULL) = (webhook_secret IS NULL));

-- The webhook key of an approved app (NULL for any other app, or one without a webhook).
CREATE OR REPLACE FUNCTION control.app_webhook_secret(p_app uuid) RETURNS bytea
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = control, pg_temp AS $$
    SELECT webhook_secret FROM control.apps WHERE id = p_app AND status = 'approved'
$$;
REVOKE ALL ON FUNCTION control.app_webhook_secret(uuid) FROM PUBLIC;
