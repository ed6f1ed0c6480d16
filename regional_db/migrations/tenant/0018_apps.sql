-- Apps a clinic installed (the marketplace, issue 11), and the state its OAuth token
-- endpoint keeps: assertion ids seen (replay), tokens revoked (RFC 7009).

-- One row per app ever installed. Uninstalling keeps the row (status 'uninstalled') so the
-- trail says who granted what and when; reinstalling updates it and moves `installed_at`,
-- which refuses every token issued before (the region compares it with the token's iat on
-- each call).
CREATE TABLE app_installations (
    app             uuid PRIMARY KEY,
    client_id       text NOT NULL UNIQUE,
    -- The SMART v2 scopes the clinic granted: a subset of what the app requested.
    granted_scopes  text NOT NULL CHECK (length(granted_scopes) BETWEEN 1 AND 2000),
    config          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    status          text NOT NULL DEFAULT 'installed' CHECK (status IN ('installed', 'uninstalled')),
    installed_by    text NOT NULL,
    installed_at    timestamptz NOT NULL DEFAULT now(),
    uninstalled_by  text,
    uninstalled_at  timestamptz,
    CHECK ((status = 'uninstalled') = (uninstalled_at IS NOT NULL))
);

-- `jti`s of client assertions (RFC 7523 §3 item 7): a second use within the assertion's
-- life is refused. Rows past `expires_at` no longer matter and are purged on insert.
CREATE TABLE oauth_assertion_jtis (
    client_id   text NOT NULL,
    jti         text NOT NULL CHECK (length(jti) BETWEEN 1 AND 256),
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX oauth_assertion_jtis_expiry ON oauth_assertion_jtis (expires_at);

-- Access tokens revoked before their expiry (RFC 7009). Kept until the token would have
-- expired anyway (≤ 300 s).
CREATE TABLE oauth_revoked_tokens (
    jti         text PRIMARY KEY,
    client_id   text NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oauth_revoked_tokens_expiry ON oauth_revoked_tokens (expires_at);
