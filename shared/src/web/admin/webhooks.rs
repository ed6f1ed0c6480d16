//! `/admin/webhooks`: where the clinic's events go and how each delivery went — the
//! endpoints (URL, events, enabled or why disabled), the recent deliveries (event type,
//! `webhook-id`, state, attempts, last answer, next attempt), one delivery's attempt log
//! (`/admin/webhooks/deliveries/{id}`), and the admin's actions:
//! - **replay** a delivery (`POST …/deliveries/{id}/replay`): due again now, with the same
//!   `webhook-id`, so a receiver that has it already ignores it;
//! - **disable** an endpoint, or **enable** it again — after a 410 Gone too
//!   (`POST …/endpoints/{id}/disabled`, `disabled=true|false`).
//!
//! Statements: [`crate::webhooks`]; none reads a secret or a payload. Adding an endpoint
//! stays an operator's command (`regional-db webhooks add`: its secret is shown once, and
//! its URL checked against the region's outbound policy). Every post is a CSRF-checked form
//! with an idempotency key, and writes what it says whatever the state it finds: posting
//! it twice changes nothing more.

use http::{Method, Response, StatusCode};
use serde_json::{Map, Value, json};

use super::{rows, utc_time};
use crate::{
    api::parse_uuid,
    dataplane::wire::Call,
    host::Host,
    i18n::Arg,
    web::{Page, PageError, escape},
    webhooks::{ADMIN_REASON, GONE_REASON, names},
};

/// Endpoints and deliveries listed (the newest deliveries; a delivery's log has all its
/// attempts: at most the schedule's ten, and the replays).
const LIST_LIMIT: i64 = 100;
const DELIVERY_LIMIT: i64 = 50;
const ATTEMPT_LIMIT: i64 = 200;

/// A delivery's id in a path: a positive integer, else no such page.
fn delivery_id(id: &str) -> Result<i64, PageError> {
    id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0 && id.bytes().all(|b| b.is_ascii_digit()))
        .ok_or(PageError::NotFound)
}

fn text<'r>(row: &'r Map<String, Value>, k: &str) -> &'r str {
    row.get(k).and_then(Value::as_str).unwrap_or("")
}

fn num(row: &Map<String, Value>, k: &str) -> Option<i64> {
    row.get(k).and_then(Value::as_i64)
}

/// An instant cell: its `<time>`, or a dash.
fn when<H: Host>(page: &Page<'_, '_, H>, row: &Map<String, Value>, k: &str) -> String {
    match row.get(k).and_then(Value::as_str) {
        Some(at) => utc_time(page.locale, at),
        None => "—".to_owned(),
    }
}

/// A delivery's state in the admin's language; a pending one whose endpoint is disabled
/// says it waits.
fn status<H: Host>(page: &Page<'_, '_, H>, row: &Map<String, Value>) -> String {
    let waiting = row.get("endpoint_disabled").and_then(Value::as_bool) == Some(true);
    match text(row, "status") {
        "pending" if waiting => page.t("admin-webhooks-waiting"),
        "pending" => page.t("admin-webhooks-status-pending"),
        "delivered" => page.t("admin-webhooks-status-delivered"),
        "failed" => page.t("admin-webhooks-status-failed"),
        other => escape(other),
    }
}

/// The last answer: its HTTP status, or the error (a timeout, a refused connection, a URL
/// the region will not call).
fn last_answer(row: &Map<String, Value>, code: &str, error: &str) -> String {
    match (num(row, code), row.get(error).and_then(Value::as_str)) {
        (Some(c), _) => c.to_string(),
        (None, Some(e)) => escape(e),
        (None, None) => "—".to_owned(),
    }
}

/// The replay button of delivery `id`.
fn replay_form<H: Host>(page: &Page<'_, '_, H>, id: i64) -> String {
    format!(
        r#"<form method="post" action="/admin/webhooks/deliveries/{id}/replay" style="display:inline">{hidden}<button type="submit" class="secondary">{label}</button></form>"#,
        hidden = page.hidden(true),
        label = page.t("admin-webhooks-replay"),
    )
}

/// `/admin/webhooks`: the endpoints and the recent deliveries.
pub async fn webhooks<H: Host>(page: &mut Page<'_, '_, H>) -> Result<Response<Vec<u8>>, PageError> {
    if page.req.method() == Method::POST {
        return Err(PageError::MethodNotAllowed);
    }
    let answer = page
        .read(vec![
            Call {
                name: names::ENDPOINTS.into(),
                params: vec![json!(LIST_LIMIT)],
            },
            Call {
                name: names::DELIVERIES.into(),
                params: vec![json!(DELIVERY_LIMIT)],
            },
        ])
        .await?;
    let endpoints = rows(&answer, 0)?;
    let mut endpoint_table = if endpoints.is_empty() {
        format!("<p>{}</p>", page.t("admin-webhooks-no-endpoints"))
    } else {
        format!(
            r#"<table><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>"#,
            page.t("admin-webhooks-col-url"),
            page.t("admin-webhooks-col-events"),
            page.t("admin-col-status"),
            page.t("admin-col-actions"),
        )
    };
    for row in endpoints {
        let id = text(row, "id");
        let events = row
            .get("event_types")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(|t| format!("<code>{}</code>", escape(t)))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        let disabled = row.get("disabled_at").is_some_and(|v| !v.is_null());
        let (state, button, next) = if disabled {
            let reason = match text(row, "disabled_reason") {
                GONE_REASON => page.t("admin-webhooks-reason-gone"),
                ADMIN_REASON => page.t("admin-webhooks-reason-admin"),
                other => escape(other),
            };
            (
                format!(
                    "{}: {reason} ({})",
                    page.t("admin-webhooks-disabled"),
                    when(page, row, "disabled_at")
                ),
                "admin-webhooks-enable",
                "false",
            )
        } else {
            (
                page.t("admin-status-active"),
                "admin-webhooks-disable",
                "true",
            )
        };
        let description = match row.get("description").and_then(Value::as_str) {
            Some(d) => format!("<br><small>{}</small>", escape(d)),
            None => String::new(),
        };
        endpoint_table.push_str(&format!(
            r#"<tr><th scope="row"><code>{url}</code>{description}</th><td>{events}</td><td>{state}</td><td><form method="post" action="/admin/webhooks/endpoints/{id}/disabled" style="display:inline">{hidden}<input type="hidden" name="disabled" value="{next}"><button type="submit" class="secondary">{button}</button></form></td></tr>"#,
            url = escape(text(row, "url")),
            id = escape(id),
            hidden = page.hidden(true),
            button = page.t(button),
        ));
    }
    if !endpoints.is_empty() {
        endpoint_table.push_str("</tbody></table>");
    }
    let deliveries = rows(&answer, 1)?;
    let mut delivery_table = if deliveries.is_empty() {
        format!("<p>{}</p>", page.t("admin-webhooks-no-deliveries"))
    } else {
        let cols = [
            "admin-webhooks-col-created",
            "admin-webhooks-col-type",
            "admin-webhooks-col-id",
            "admin-webhooks-col-url",
            "admin-col-status",
            "admin-webhooks-col-attempts",
            "admin-webhooks-col-last",
            "admin-webhooks-col-next",
            "admin-col-actions",
        ];
        let head: String = cols
            .iter()
            .map(|c| format!(r#"<th scope="col">{}</th>"#, page.t(c)))
            .collect();
        format!("<table><thead><tr>{head}</tr></thead><tbody>")
    };
    for row in deliveries {
        let Some(id) = num(row, "id") else { continue };
        delivery_table.push_str(&format!(
            r#"<tr><td>{created}</td><td><code>{kind}</code></td><td><a href="/admin/webhooks/deliveries/{id}"><code>{webhook_id}</code></a></td><td><code>{url}</code></td><td>{status}</td><td>{attempts}</td><td>{last}</td><td>{next}</td><td>{replay}</td></tr>"#,
            created = when(page, row, "created_at"),
            kind = escape(text(row, "type")),
            webhook_id = escape(text(row, "webhook_id")),
            url = escape(text(row, "url")),
            status = status(page, row),
            attempts = num(row, "attempts").unwrap_or(0),
            last = last_answer(row, "last_status_code", "last_error"),
            next = when(page, row, "next_attempt_at"),
            replay = replay_form(page, id),
        ));
    }
    if !deliveries.is_empty() {
        delivery_table.push_str("</tbody></table>");
    }
    let title = page.t("admin-webhooks-title");
    let body = format!(
        r#"<main>
{back}
<h1>{title}</h1>
<p>{intro}</p>
<h2>{endpoints_title}</h2>
{endpoint_table}
<h2>{deliveries_title}</h2>
<p>{replay_help}</p>
{delivery_table}
</main>"#,
        back = super::back(page, "/admin", "admin-back"),
        intro = page.t("admin-webhooks-intro"),
        endpoints_title = page.t("admin-webhooks-endpoints"),
        deliveries_title = page.t("admin-webhooks-deliveries"),
        replay_help = page.t("admin-webhooks-replay-help"),
    );
    Ok(page.render(StatusCode::OK, &title, &body))
}

/// `/admin/webhooks/deliveries/{id}`: one delivery and its attempt log, newest first.
pub async fn delivery<H: Host>(
    page: &mut Page<'_, '_, H>,
    id: &str,
) -> Result<Response<Vec<u8>>, PageError> {
    if page.req.method() == Method::POST {
        return Err(PageError::MethodNotAllowed);
    }
    let id = delivery_id(id)?;
    let answer = page
        .read(vec![
            Call {
                name: names::DELIVERY.into(),
                params: vec![json!(id)],
            },
            Call {
                name: names::ATTEMPTS.into(),
                params: vec![json!(id), json!(ATTEMPT_LIMIT)],
            },
        ])
        .await?;
    // Another clinic's delivery (or none) is no row here: the same 404.
    let row = rows(&answer, 0)?.first().ok_or(PageError::NotFound)?;
    let attempts = rows(&answer, 1)?;
    let mut log = if attempts.is_empty() {
        format!("<p>{}</p>", page.t("admin-webhooks-no-attempts"))
    } else {
        let head: String = [
            "admin-webhooks-col-attempt",
            "admin-webhooks-col-at",
            "admin-webhooks-col-code",
            "admin-webhooks-col-error",
            "admin-webhooks-col-duration",
        ]
        .iter()
        .map(|c| format!(r#"<th scope="col">{}</th>"#, page.t(c)))
        .collect();
        format!("<table><thead><tr>{head}</tr></thead><tbody>")
    };
    for a in attempts {
        log.push_str(&format!(
            r#"<tr><th scope="row">{n}</th><td>{at}</td><td>{code}</td><td>{error}</td><td>{ms}</td></tr>"#,
            n = num(a, "attempt").unwrap_or(0),
            at = when(page, a, "at"),
            code = num(a, "status_code").map_or("—".to_owned(), |c| c.to_string()),
            error = a
                .get("error")
                .and_then(Value::as_str)
                .map_or("—".to_owned(), escape),
            ms = num(a, "duration_ms").unwrap_or(0),
        ));
    }
    if !attempts.is_empty() {
        log.push_str("</tbody></table>");
    }
    let title = page.tr("admin-webhooks-delivery-title", &[("id", Arg::Num(id))]);
    let facts = [
        (
            "admin-webhooks-col-type",
            format!("<code>{}</code>", escape(text(row, "type"))),
        ),
        (
            "admin-webhooks-col-id",
            format!("<code>{}</code>", escape(text(row, "webhook_id"))),
        ),
        (
            "admin-webhooks-col-url",
            format!("<code>{}</code>", escape(text(row, "url"))),
        ),
        ("admin-webhooks-col-created", when(page, row, "created_at")),
        ("admin-col-status", status(page, row)),
        (
            "admin-webhooks-col-attempts",
            num(row, "attempts").unwrap_or(0).to_string(),
        ),
        (
            "admin-webhooks-col-last",
            last_answer(row, "last_status_code", "last_error"),
        ),
        (
            "admin-webhooks-col-next",
            when(page, row, "next_attempt_at"),
        ),
    ]
    .iter()
    .map(|(k, v)| format!("<dt>{}</dt><dd>{v}</dd>", page.t(k)))
    .collect::<String>();
    let body = format!(
        r#"<main>
{back}
<h1>{title}</h1>
<dl>{facts}</dl>
<p>{replay_help}</p>
{replay}
<h2>{log_title}</h2>
{log}
</main>"#,
        back = super::back(page, "/admin/webhooks", "admin-webhooks-back"),
        replay_help = page.t("admin-webhooks-replay-help"),
        replay = replay_form(page, id),
        log_title = page.t("admin-webhooks-log"),
    );
    Ok(page.render(StatusCode::OK, &title, &body))
}

/// `POST /admin/webhooks/deliveries/{id}/replay`.
pub async fn replay<H: Host>(
    page: &mut Page<'_, '_, H>,
    id: &str,
) -> Result<Response<Vec<u8>>, PageError> {
    let id = delivery_id(id)?;
    page.posted()?;
    let answer = page
        .write(vec![Call {
            name: names::REPLAY.into(),
            params: vec![json!(id)],
        }])
        .await?;
    if rows(&answer, 0)?.is_empty() {
        return Err(PageError::NotFound);
    }
    Ok(page.redirect(&format!("/admin/webhooks/deliveries/{id}")))
}

/// `POST /admin/webhooks/endpoints/{id}/disabled` with `disabled=true|false`.
pub async fn set_disabled<H: Host>(
    page: &mut Page<'_, '_, H>,
    id: &str,
) -> Result<Response<Vec<u8>>, PageError> {
    let id = parse_uuid(id).ok_or(PageError::NotFound)?;
    let disabled = match page.posted()?.get("disabled") {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(PageError::BadRequest),
    };
    let answer = page
        .write(vec![Call {
            name: names::ENDPOINT_SET_DISABLED.into(),
            params: vec![json!(id), json!(disabled)],
        }])
        .await?;
    if rows(&answer, 0)?.is_empty() {
        return Err(PageError::NotFound);
    }
    Ok(page.redirect("/admin/webhooks"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_ids_are_positive_integers() {
        assert_eq!(delivery_id("42"), Ok(42));
        for bad in ["0", "-1", "+1", "1e3", "x", "", "99999999999999999999"] {
            assert_eq!(delivery_id(bad), Err(PageError::NotFound), "{bad:?}");
        }
    }
}
