//! A clinic's webhooks as its admin sees and steers them (`/admin/webhooks`,
//! [`crate::web::admin`]): its endpoints, recent deliveries and their attempt log, and the
//! three actions — replay a delivery, disable an endpoint, enable it again.
//!
//! The outbox, the endpoints and the delivery job are the region's
//! (`regional_db/migrations/tenant/0017_webhooks.sql`, `regional_db/src/jobs/webhooks.rs`).
//! These statements never read an endpoint's secret (the service's role may not even
//! select it: `regional_db/src/grants.rs`, `SECRET_COLUMNS`) nor an event's payload: the
//! page shows what was sent where and how it went, not about whom.
//!
//! - `webhooks.endpoints(limit)` → `id, url, event_types, description, app, created_at,
//!   disabled_at, disabled_reason`, oldest first.
//! - `webhooks.deliveries(limit)` → [`DELIVERY_COLUMNS`], newest first.
//! - `webhooks.delivery(id)` → the same for one delivery (none: not this clinic's).
//! - `webhooks.attempts(delivery, limit)` → `attempt, at, status_code, error, duration_ms`.
//! - `webhooks.replay(id)` → `id`: the delivery is due again now, as a new attempt of the
//!   same event (the same `webhook-id`: receivers that saw it dedupe). Idempotent: a
//!   second replay before the job ran changes nothing more.
//! - `webhooks.endpoint-set-disabled(id, disabled)` → `id, disabled`: an admin disables an
//!   endpoint (its pending deliveries wait, no new ones are made) or enables it again
//!   (after a 410 too); setting what is already set changes nothing.
//!
//! Writes are in the clinic's audit trail as `WebhookDelivery` and `WebhookEndpoint`.

use crate::dataplane::statement::{Access, Audit, ParamType, SchemaScope, Statement, p};

/// The statements' names.
pub mod names {
    pub const ENDPOINTS: &str = "webhooks.endpoints";
    pub const DELIVERIES: &str = "webhooks.deliveries";
    pub const DELIVERY: &str = "webhooks.delivery";
    pub const ATTEMPTS: &str = "webhooks.attempts";
    pub const REPLAY: &str = "webhooks.replay";
    pub const ENDPOINT_SET_DISABLED: &str = "webhooks.endpoint-set-disabled";
}

/// What a delivery row holds: its id, the event's id (the `webhook-id`) and type, the
/// endpoint, its state, attempts, last answer and when it is due (pending only).
macro_rules! delivery_columns {
    () => {
        "d.id, d.event AS webhook_id, o.type, d.endpoint, e.url, \
         d.status, d.attempts, d.last_status_code, d.last_error, \
         fhir_instant(o.created_at) AS created_at, \
         CASE WHEN d.status = 'pending' THEN fhir_instant(d.next_attempt_at) END AS next_attempt_at, \
         fhir_instant(d.delivered_at) AS delivered_at, \
         e.disabled_at IS NOT NULL AS endpoint_disabled"
    };
}

/// Why an admin disabled an endpoint, as stored (a literal of the SQL below).
macro_rules! admin_reason {
    () => {
        "disabled by an admin"
    };
}

/// Why an admin's endpoint is disabled, as stored: the page shows it in the admin's
/// language (the job stores [`GONE_REASON`] on a 410).
pub const ADMIN_REASON: &str = admin_reason!();
/// The job's reason for an endpoint whose receiver answered 410 Gone.
pub const GONE_REASON: &str = "the receiver answered 410 Gone";

const fn audit(resource_type: &'static str) -> Option<Audit> {
    Some(Audit {
        action: "update",
        resource_type,
    })
}

/// The statements, for the catalog ([`crate::dataplane::catalog::all`]).
pub fn statements() -> Vec<Statement> {
    STATEMENTS.to_vec()
}

static STATEMENTS: &[Statement] = &[
    Statement {
        name: names::ENDPOINTS,
        sql: "SELECT id, url, event_types, description, app, fhir_instant(created_at) AS created_at, \
                     fhir_instant(disabled_at) AS disabled_at, disabled_reason \
              FROM webhook_endpoints ORDER BY created_at, id LIMIT $1",
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[p("limit", ParamType::Int8)],
        audit: None,
    },
    Statement {
        name: names::DELIVERIES,
        sql: concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM webhook_deliveries d JOIN outbox_events o ON o.id = d.event \
              JOIN webhook_endpoints e ON e.id = d.endpoint \
              ORDER BY d.id DESC LIMIT $1"
        ),
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[p("limit", ParamType::Int8)],
        audit: None,
    },
    Statement {
        name: names::DELIVERY,
        sql: concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM webhook_deliveries d JOIN outbox_events o ON o.id = d.event \
              JOIN webhook_endpoints e ON e.id = d.endpoint WHERE d.id = $1"
        ),
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[p("id", ParamType::Int8)],
        audit: None,
    },
    Statement {
        name: names::ATTEMPTS,
        sql: "SELECT attempt, fhir_instant(at) AS at, status_code, error, duration_ms \
              FROM webhook_attempts WHERE delivery = $1 ORDER BY attempt DESC LIMIT $2",
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[p("delivery", ParamType::Int8), p("limit", ParamType::Int8)],
        audit: None,
    },
    Statement {
        name: names::REPLAY,
        // Due now, pending again; the attempt count goes on (the log's attempt numbers
        // stay unique) and the event, hence the webhook-id, is the same.
        sql: "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), \
                     delivered_at = NULL, updated_at = now() \
              WHERE id = $1 RETURNING id",
        access: Access::Write,
        scope: SchemaScope::Tenant,
        params: &[p("id", ParamType::Int8)],
        audit: audit("WebhookDelivery"),
    },
    Statement {
        name: names::ENDPOINT_SET_DISABLED,
        // Disabling keeps an earlier reason and time (a 410's); enabling clears both.
        sql: concat!(
            "UPDATE webhook_endpoints SET \
                 disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) END, \
                 disabled_reason = CASE WHEN $2 THEN coalesce(disabled_reason, '",
            admin_reason!(),
            "') END \
             WHERE id = $1 RETURNING id, disabled_at IS NOT NULL AS disabled"
        ),
        access: Access::Write,
        scope: SchemaScope::Tenant,
        params: &[p("id", ParamType::Uuid), p("disabled", ParamType::Bool)],
        audit: audit("WebhookEndpoint"),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_statement_reads_a_secret_or_a_payload() {
        for s in statements() {
            assert!(s.name.starts_with("webhooks."), "{}", s.name);
            assert!(!s.sql.contains("secret"), "{}", s.name);
            assert!(!s.sql.contains("payload"), "{}", s.name);
        }
    }
}
