//! `/admin/apps`: the clinic's apps — those installed (what they were granted, by whom,
//! when, their settings, uninstalling), and the approved apps of the marketplace not
//! installed, each with its install form (one checkbox per scope it asks for, all
//! unchecked: the admin chooses; an empty grant is refused).
//!
//! Every page is one read batch; every post one write batch, then a redirect (a refusal the
//! database decides — an app no longer approved, a grant beyond its request — comes back as
//! `?error=…` on the redirect, so no post costs a second call). What the edge can check
//! (an empty grant, a scope reaching patients' data where the clinic's policy has no consent
//! to sharing with apps, a configuration that is not a small flat JSON object, an uninstall
//! not confirmed) is refused before any write, with the page re-rendered (one read).
//!
//! Form fields: install `scope` (repeated); configure `config` (JSON text); uninstall
//! `confirm=yes`. Each also carries `csrf` and `idem`.

use http::{Method, Response, StatusCode};
use serde_json::{Map, Value, json};

use super::{rows, utc_time};
use crate::{
    api::parse_uuid,
    apps::{self, GrantError, names},
    auth::Scopes,
    compliance::policy_for,
    dataplane::wire::Call,
    host::Host,
    i18n::{Arg, message},
    web::{
        Page, PageError, escape,
        marketplace::{CatalogApp, price_words, scope_list, scope_words},
    },
};

/// A refusal shown on the page: which app's form, and the message (text).
struct Notice {
    app: String,
    text: String,
}

/// `/admin/apps`: GET only.
pub async fn apps<H: Host>(page: &mut Page<'_, '_, H>) -> Result<Response<Vec<u8>>, PageError> {
    if page.req.method() == Method::POST {
        return Err(PageError::MethodNotAllowed);
    }
    render(page, StatusCode::OK, None, None).await
}

/// `POST /admin/apps/{id}/install` with `scope` (repeated).
pub async fn install<H: Host>(
    page: &mut Page<'_, '_, H>,
    id: &str,
) -> Result<Response<Vec<u8>>, PageError> {
    let app = parse_uuid(id).ok_or(PageError::NotFound)?;
    let form = page.posted()?.clone();
    let policy = policy_for(&page.entry.country);
    let chosen = form.all("scope");
    let scopes = match apps::check_choice(&chosen, &policy) {
        Ok(s) => s.join(" "),
        Err(e) => {
            let text = match e {
                GrantError::Empty => page.text("apps-grant-empty"),
                GrantError::NoConsent(s) => message(
                    page.locale,
                    "apps-grant-no-consent",
                    &[("scope", Arg::Str(&scope_words(page.locale, &s)))],
                ),
                _ => page.text("apps-grant-not-requested"),
            };
            let notice = Notice { app, text };
            return render(
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&notice),
                Some(&form),
            )
            .await;
        }
    };
    let data_events: Vec<&str> = apps::EVENT_TYPES
        .iter()
        .copied()
        .filter(|e| !e.starts_with("app."))
        .collect();
    let events = apps::events_allowed(&Scopes::parse(&scopes), &data_events);
    let actor = page.actor();
    let answer = page
        .write(vec![
            // The endpoint first: the install's trigger then delivers `app.installed` to it.
            Call {
                name: names::ENDPOINT.into(),
                params: vec![json!(app), json!(scopes), json!(app), json!(events)],
            },
            Call {
                name: names::INSTALL.into(),
                params: vec![json!(app), json!(scopes), json!({}), json!(actor)],
            },
        ])
        .await?;
    if rows(&answer, 1)?.is_empty() {
        return Ok(page.redirect(&format!("/admin/apps?error=not-installable#app-{app}")));
    }
    Ok(page.redirect(&format!("/admin/apps?done=installed#app-{app}")))
}

/// `POST /admin/apps/{id}/configure` with `config` (a JSON object, empty for none).
pub async fn configure<H: Host>(
    page: &mut Page<'_, '_, H>,
    id: &str,
) -> Result<Response<Vec<u8>>, PageError> {
    let app = parse_uuid(id).ok_or(PageError::NotFound)?;
    let form = page.posted()?.clone();
    let config = match apps::parse_config(form.raw("config").unwrap_or("")) {
        Ok(c) => c,
        Err(e) => {
            let text = message(
                page.locale,
                "apps-config-invalid",
                &[("why", Arg::Str(&e.to_string()))],
            );
            let notice = Notice { app, text };
            return render(
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&notice),
                Some(&form),
            )
            .await;
        }
    };
    let answer = page
        .write(vec![Call {
            name: names::CONFIGURE.into(),
            params: vec![json!(app), Value::Object(config)],
        }])
        .await?;
    if rows(&answer, 0)?.is_empty() {
        return Ok(page.redirect("/admin/apps?error=not-installed"));
    }
    Ok(page.redirect(&format!("/admin/apps?done=configured#app-{app}")))
}

/// `POST /admin/apps/{id}/uninstall` with `confirm=yes`.
pub async fn uninstall<H: Host>(
    page: &mut Page<'_, '_, H>,
    id: &str,
) -> Result<Response<Vec<u8>>, PageError> {
    let app = parse_uuid(id).ok_or(PageError::NotFound)?;
    let form = page.posted()?.clone();
    if form.get("confirm") != Some("yes") {
        let notice = Notice {
            app,
            text: page.text("apps-uninstall-unconfirmed"),
        };
        return render(
            page,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&notice),
            Some(&form),
        )
        .await;
    }
    let actor = page.actor();
    let answer = page
        .write(vec![
            // The endpoint off first: `app.uninstalled` then reaches the clinic's own
            // endpoints only, and nothing more reaches the app.
            Call {
                name: names::ENDPOINT_DISABLE.into(),
                params: vec![json!(app)],
            },
            Call {
                name: names::DELIVERIES_DROP.into(),
                params: vec![json!(app)],
            },
            Call {
                name: names::UNINSTALL.into(),
                params: vec![json!(app), json!(actor)],
            },
        ])
        .await?;
    if rows(&answer, 2)?.is_empty() {
        return Ok(page.redirect("/admin/apps?error=not-installed"));
    }
    Ok(page.redirect("/admin/apps?done=uninstalled"))
}

fn text<'r>(row: &'r Map<String, Value>, k: &str) -> &'r str {
    row.get(k).and_then(Value::as_str).unwrap_or("")
}

/// The page, with a refusal next to one app's forms when there is one.
async fn render<H: Host>(
    page: &mut Page<'_, '_, H>,
    status: StatusCode,
    notice: Option<&Notice>,
    posted: Option<&crate::web::form::Form>,
) -> Result<Response<Vec<u8>>, PageError> {
    let answer = page
        .read(vec![
            Call {
                name: names::INSTALLATIONS.into(),
                params: vec![],
            },
            Call {
                name: names::CATALOG.into(),
                params: vec![Value::Null],
            },
        ])
        .await?;
    let locale = page.locale;
    let installations = rows(&answer, 0)?;
    let catalog: Vec<CatalogApp> = rows(&answer, 1)?
        .iter()
        .filter_map(CatalogApp::of)
        .collect();
    let installed: Vec<&Map<String, Value>> = installations
        .iter()
        .filter(|r| text(r, "status") == "installed")
        .collect();
    let is_installed = |id: &str| installed.iter().any(|r| text(r, "id") == id);
    let alert = |app: &str| match notice {
        Some(n) if n.app == app => format!(
            r#"<p class="field-error" role="alert" id="error-{}">{}</p>"#,
            escape(app),
            escape(&n.text)
        ),
        _ => String::new(),
    };
    let query = page.req.uri().query().unwrap_or("");
    let param = |name: &str| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let banner = match (param("error").as_deref(), param("done").as_deref()) {
        (Some("not-installable"), _) => Some(("field-error", "apps-not-installable")),
        (Some("not-installed"), _) => Some(("field-error", "apps-not-installed")),
        (_, Some("installed")) => Some(("notice", "apps-done-installed")),
        (_, Some("uninstalled")) => Some(("notice", "apps-done-uninstalled")),
        (_, Some("configured")) => Some(("notice", "apps-done-configured")),
        _ => None,
    }
    .map(|(class, id)| format!(r#"<p class="{class}" role="status">{}</p>"#, page.t(id)))
    .unwrap_or_default();

    // Installed apps.
    let mut installed_html = String::new();
    if installed.is_empty() {
        installed_html.push_str(&format!("<p>{}</p>", page.t("apps-installed-none")));
    }
    for row in &installed {
        let id = text(row, "id");
        let names = row
            .get("names")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let name = names
            .get(locale.tag())
            .or_else(|| names.get("en"))
            .and_then(Value::as_str)
            .unwrap_or(text(row, "slug"));
        let config_text = match posted {
            Some(f) if notice.is_some_and(|n| n.app == id) => {
                f.raw("config").unwrap_or("").to_owned()
            }
            _ => row
                .get("config")
                .filter(|c| c.as_object().is_some_and(|o| !o.is_empty()))
                .and_then(|c| serde_json::to_string_pretty(c).ok())
                .unwrap_or_default(),
        };
        let by = page.tr(
            "apps-installed-by",
            &[
                ("who", Arg::Str(text(row, "installed_by"))),
                ("when", Arg::Str("\u{1}")),
            ],
        );
        let by = by.replace('\u{1}', &utc_time(locale, text(row, "installed_at")));
        let cid = escape(id);
        installed_html.push_str(&format!(
            r#"<section class="app" id="app-{cid}" aria-labelledby="h-{cid}">
<h3 id="h-{cid}">{name}</h3>
{alert}
<p>{by}</p>
<h4>{granted}</h4>
{scopes}
<form method="post" action="/admin/apps/{cid}/configure">
{hidden}
<div class="field"><label for="config-{cid}">{config_label}</label>
<textarea id="config-{cid}" name="config" rows="4" spellcheck="false" aria-describedby="config-help-{cid}">{config}</textarea>
<p class="help" id="config-help-{cid}">{config_help}</p></div>
<button type="submit" class="secondary">{save}</button>
</form>
<form method="post" action="/admin/apps/{cid}/uninstall">
{hidden2}
<div class="field"><input type="checkbox" id="confirm-{cid}" name="confirm" value="yes" required>
<label for="confirm-{cid}">{confirm}</label></div>
<button type="submit" class="danger">{uninstall}</button>
</form>
</section>"#,
            name = escape(name),
            alert = alert(id),
            granted = page.t("apps-granted"),
            scopes = scope_list(locale, text(row, "granted_scopes")),
            hidden = page.hidden(true),
            hidden2 = page.hidden(true),
            config_label = page.t("apps-config"),
            config = escape(&config_text),
            config_help = page.t("apps-config-help"),
            save = page.t("apps-config-save"),
            confirm = page.t("apps-uninstall-confirm"),
            uninstall = page.t("apps-uninstall"),
        ));
    }

    // Approved apps not installed now (a past install is listed with them).
    let policy = policy_for(&page.entry.country);
    let consent = apps::sharing_consent(&policy);
    let consent_note = match consent {
        Some(rule) => page.tr("apps-consent-note", &[("kind", Arg::Str(rule.kind))]),
        None => page.t("apps-consent-none"),
    };
    let chosen: Vec<&str> = posted.map(|f| f.all("scope")).unwrap_or_default();
    let mut available_html = String::new();
    let available: Vec<&CatalogApp> = catalog.iter().filter(|a| !is_installed(&a.id)).collect();
    if available.is_empty() {
        available_html.push_str(&format!("<p>{}</p>", page.t("apps-available-none")));
    }
    for a in available {
        let cid = escape(&a.id);
        let past = installations
            .iter()
            .find(|r| text(r, "id") == a.id && text(r, "status") == "uninstalled")
            .map(|r| {
                let p = page.tr(
                    "apps-uninstalled-by",
                    &[
                        ("who", Arg::Str(text(r, "uninstalled_by"))),
                        ("when", Arg::Str("\u{1}")),
                    ],
                );
                format!(
                    "<p>{}</p>",
                    p.replace('\u{1}', &utc_time(locale, text(r, "uninstalled_at")))
                )
            })
            .unwrap_or_default();
        let boxes: String = a
            .requested_scopes
            .split_ascii_whitespace()
            .enumerate()
            .map(|(i, s)| {
                let patient = s
                    .parse::<crate::auth::Scope>()
                    .is_ok_and(|sc| apps::reaches_patient_data(&sc));
                let disabled = if patient && consent.is_none() {
                    " disabled"
                } else {
                    ""
                };
                let checked = if notice.is_some_and(|n| n.app == a.id) && chosen.contains(&s) {
                    " checked"
                } else {
                    ""
                };
                let tag = if patient {
                    format!(r#" <span class="tag">{}</span>"#, page.t("apps-patient-data"))
                } else {
                    String::new()
                };
                format!(
                    r#"<div class="field"><input type="checkbox" id="scope-{cid}-{i}" name="scope" value="{v}"{checked}{disabled}>
<label for="scope-{cid}-{i}">{words} <code>{v}</code>{tag}</label></div>"#,
                    v = escape(s),
                    words = escape(&scope_words(locale, s)),
                )
            })
            .collect();
        available_html.push_str(&format!(
            r#"<section class="app" id="app-{cid}" aria-labelledby="h-{cid}">
<h3 id="h-{cid}">{name}</h3>
<p>{developer} · <strong>{price}</strong></p>
<p>{description}</p>
{past}
{alert}
<form method="post" action="/admin/apps/{cid}/install">
{hidden}
<fieldset><legend>{legend}</legend>
{boxes}
</fieldset>
<p class="help">{consent_note}</p>
<button type="submit">{install}</button>
</form>
</section>"#,
            name = escape(a.name(locale)),
            developer = escape(&a.developer),
            price = escape(&price_words(a.pricing.as_ref(), locale, &page.entry)),
            description = escape(a.description(locale)),
            alert = alert(&a.id),
            hidden = page.hidden(true),
            legend = page.t("apps-grant-legend"),
            install = page.t("apps-install"),
        ));
    }

    let title = page.t("apps-admin-title");
    let body = format!(
        r#"<main>
{back}
<h1>{title}</h1>
{banner}
<p><a href="/marketplace">{marketplace}</a></p>
<h2>{installed_title}</h2>
{installed_html}
<h2>{available_title}</h2>
{available_html}
</main>"#,
        back = super::back(page, "/admin", "admin-back"),
        marketplace = page.t("apps-marketplace-link"),
        installed_title = page.t("apps-installed-title"),
        available_title = page.t("apps-available-title"),
    );
    Ok(page.render(status, &title, &body))
}
