-- Operators' clinic management (`regional-db tenant …`, regional_db/src/tenants.rs).
--
-- Custom domains are verified before they route: `tenant domain add` writes a pending row
-- with a random token, to be published as `_telemed-challenge.<domain> TXT "<token>"`;
-- `tenant domain verify` sets `verified_at` once the record is seen. The directory's
-- statements (shared/src/dataplane/catalog.rs) route and list verified domains only.
-- Domains registered before this migration, or given to `tenant create --domain` by the
-- operator, count as verified (the default).
-- Subscribers (every region's copy of the directory) must run this migration before the
-- control plane does: logical replication needs their tables to have every column.
ALTER TABLE control.tenant_domains
    ADD COLUMN verification_token text,
    ADD COLUMN verified_at timestamptz DEFAULT now(),
    ADD COLUMN added_at timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT tenant_domains_pending_has_token
        CHECK (verified_at IS NOT NULL OR verification_token IS NOT NULL);

-- What operators did to clinics on the control plane (create, update, suspend, resume,
-- domains, delete). Not in a clinic's schema: a deletion's record must outlive the clinic.
-- Holds no health data: slugs, plans, domains, counts, and where an export was written.
CREATE TABLE control.operator_events (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text NOT NULL,
    region  text NOT NULL,
    action  text NOT NULL,
    slug    text NOT NULL,
    detail  jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX operator_events_slug ON control.operator_events (slug, at);
