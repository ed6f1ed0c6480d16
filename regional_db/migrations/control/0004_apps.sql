-- The marketplace's catalog and the apps' OAuth clients (issue 11). Written on the control
-- plane by operators (`regional-db apps …`), read in every region: token requests are
-- answered by the clinic's home region, which needs the client to check its credentials.
-- Both tables are replicated with the directory (xtask/src/stack.rs, REPLICATED_TABLES).
-- Subscribers must run this migration before the control plane publishes the tables.

CREATE TABLE control.apps (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The app's stable name in URLs and on the command line.
    slug              text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    -- Per locale ({"en": "…", "fr": "…"}); `en` is required, the page falls back to it.
    names             jsonb NOT NULL CHECK (jsonb_typeof(names) = 'object' AND names ? 'en'),
    descriptions      jsonb NOT NULL CHECK (jsonb_typeof(descriptions) = 'object' AND descriptions ? 'en'),
    developer         text NOT NULL CHECK (length(developer) BETWEEN 1 AND 200),
    developer_url     text CHECK (developer_url ~ '^https://[^\s]+$'),
    icon_url          text CHECK (icon_url ~ '^https://[^\s]+$'),
    category          text NOT NULL CHECK (category IN
                          ('iot', 'analytics', 'communication', 'scheduling', 'billing', 'clinical')),
    -- {"model": "free"} | {"model": "monthly", "amount": "9.90", "currency": "EUR"}.
    pricing           jsonb NOT NULL DEFAULT '{"model": "free"}',
    -- Space-separated SMART v2 scopes the app asks for; a clinic grants a subset.
    requested_scopes  text NOT NULL CHECK (length(requested_scopes) BETWEEN 1 AND 2000),
    -- Where the app receives the clinic's events once installed (optional).
    webhook_url       text CHECK (webhook_url ~ '^https?://[^\s]+$' AND length(webhook_url) <= 2048),
    webhook_events    text[] NOT NULL DEFAULT '{}',
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    review_note       text CHECK (length(review_note) <= 1000),
    reviewed_by       text,
    reviewed_at       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- One OAuth client per app (SMART Backend Services, client_credentials): authenticated by
-- a client secret (`client_secret_basic`; only its SHA-256 is kept, the secret is 32
-- random bytes shown once) or by a signed assertion (`private_key_jwt`) whose keys are
-- registered here (`jwks`) or published by the app (`jwks_url`, fetched by the region).
CREATE TABLE control.oauth_clients (
    client_id      text PRIMARY KEY CHECK (client_id ~ '^[A-Za-z0-9_-]{8,64}$'),
    app            uuid NOT NULL UNIQUE REFERENCES control.apps (id) ON DELETE CASCADE,
    secret_sha256  bytea CHECK (length(secret_sha256) = 32),
    jwks           jsonb CHECK (jwks IS NULL OR jsonb_typeof(jwks -> 'keys') = 'array'),
    jwks_url       text CHECK (jwks_url ~ '^https?://[^\s]+$' AND length(jwks_url) <= 2048),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nonnulls(secret_sha256, jwks, jwks_url) >= 1),
    CHECK (jwks IS NULL OR jwks_url IS NULL)
);
