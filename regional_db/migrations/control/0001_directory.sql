-- The control schema: the tenant directory. Its primary lives in the control-plane region.
CREATE SCHEMA IF NOT EXISTS control;

CREATE TABLE control.tenants (
    slug            text PRIMARY KEY CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    country         text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    home_region     text NOT NULL,
    default_locale  text NOT NULL,
    currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    plan            text NOT NULL DEFAULT 'standard',
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    schema_version  integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE control.tenant_domains (
    domain  text PRIMARY KEY CHECK (domain = lower(domain)),
    slug    text NOT NULL REFERENCES control.tenants (slug) ON DELETE CASCADE
);
CREATE INDEX tenant_domains_slug ON control.tenant_domains (slug);
