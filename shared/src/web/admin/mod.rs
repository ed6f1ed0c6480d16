//! The clinic admin's pages, under `/admin` (an admin's session only; anyone else gets the
//! 403 page, and no session the sign-in form):
//! - `/admin`: the dashboard, with counts, linking to each section;
//! - `/admin/practitioners`: the list, adding one, deactivating and reactivating
//!   ([`practitioners`]);
//! - `/admin/practitioners/{id}/availability`: weekly availability turned into bookable
//!   slots ([`availability`]);
//! - `/admin/prices`: one price per consultation type, and retiring one ([`prices`]);
//! - `/admin/accounts`: sign-in accounts of practitioners and admins ([`accounts`]);
//! - `/admin/webhooks`: endpoints, deliveries and their attempts, replaying a delivery,
//!   disabling and enabling an endpoint ([`webhooks`]).
//! - `/admin/apps`: the marketplace's apps the clinic installed, installs, settings and
//!   uninstalls ([`apps`]).
//!
//! Every page is one read batch; every post one write batch. Practitioners are created
//! through the API's own validation and create statement, slots through the API's
//! `Schedule/$generate-slots` procedure: a page writes nothing the API would refuse.

mod accounts;
mod apps;
mod availability;
mod practitioners;
mod prices;
mod webhooks;

use http::{Method, Response, StatusCode};
use serde_json::{Map, Value};

use super::{Page, PageError};
use crate::{
    accounts::Role,
    dataplane::{
        statement::{Access, Audit, ParamType, SchemaScope, Statement, p},
        wire::{BatchResponse, Call},
    },
    host::Host,
    i18n::Arg,
};

/// The admin's pages, by path below `/admin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminRoute {
    /// `/admin`.
    Dashboard,
    /// `/admin/practitioners`: the list (GET) and adding one (POST).
    Practitioners,
    /// `POST /admin/practitioners/{id}/active`: deactivate or reactivate.
    PractitionerActive(String),
    /// `/admin/practitioners/{id}/availability`: the form (GET) and its post.
    Availability(String),
    /// `/admin/prices`: the list (GET) and setting a type's price (POST).
    Prices,
    /// `POST /admin/prices/{id}/retire`.
    PriceRetire(String),
    /// `/admin/accounts`: the list (GET) and creating one (POST).
    Accounts,
    /// `POST /admin/accounts/{id}/disabled`: disable or enable.
    AccountDisabled(String),
    /// `/admin/webhooks`: endpoints and recent deliveries.
    Webhooks,
    /// `/admin/webhooks/deliveries/{id}`: one delivery and its attempts.
    WebhookDelivery(String),
    /// `POST /admin/webhooks/deliveries/{id}/replay`.
    WebhookReplay(String),
    /// `POST /admin/webhooks/endpoints/{id}/disabled`: disable or enable.
    WebhookEndpointDisabled(String),
    /// `/admin/apps`: installed and installable apps (GET).
    Apps,
    /// `POST /admin/apps/{id}/install`.
    AppInstall(String),
    /// `POST /admin/apps/{id}/configure`.
    AppConfigure(String),
    /// `POST /admin/apps/{id}/uninstall`.
    AppUninstall(String),
}

impl AdminRoute {
    /// The page at the path segments after `admin`, if there is one. Ids are kept as
    /// typed: a page parses them (an id that is no UUID is a 404 without a region call).
    pub fn parse(rest: &[&str]) -> Option<Self> {
        Some(match rest {
            [] => Self::Dashboard,
            ["practitioners"] => Self::Practitioners,
            ["practitioners", id, "active"] => Self::PractitionerActive((*id).to_owned()),
            ["practitioners", id, "availability"] => Self::Availability((*id).to_owned()),
            ["prices"] => Self::Prices,
            ["prices", id, "retire"] => Self::PriceRetire((*id).to_owned()),
            ["accounts"] => Self::Accounts,
            ["accounts", id, "disabled"] => Self::AccountDisabled((*id).to_owned()),
            ["webhooks"] => Self::Webhooks,
            ["webhooks", "deliveries", id] => Self::WebhookDelivery((*id).to_owned()),
            ["webhooks", "deliveries", id, "replay"] => Self::WebhookReplay((*id).to_owned()),
            ["webhooks", "endpoints", id, "disabled"] => {
                Self::WebhookEndpointDisabled((*id).to_owned())
            }
            ["apps"] => Self::Apps,
            ["apps", id, "install"] => Self::AppInstall((*id).to_owned()),
            ["apps", id, "configure"] => Self::AppConfigure((*id).to_owned()),
            ["apps", id, "uninstall"] => Self::AppUninstall((*id).to_owned()),
            _ => return None,
        })
    }
}

/// Runs an admin page, for an admin only.
pub async fn handle<H: Host>(
    page: &mut Page<'_, '_, H>,
    route: AdminRoute,
) -> Result<Response<Vec<u8>>, PageError> {
    page.require(&[Role::Admin])?;
    match route {
        AdminRoute::Dashboard => dashboard(page).await,
        AdminRoute::Practitioners => practitioners::list(page).await,
        AdminRoute::PractitionerActive(id) => practitioners::set_active(page, &id).await,
        AdminRoute::Availability(id) => availability::availability(page, &id).await,
        AdminRoute::Prices => prices::prices(page).await,
        AdminRoute::PriceRetire(id) => prices::retire(page, &id).await,
        AdminRoute::Accounts => accounts::accounts(page).await,
        AdminRoute::AccountDisabled(id) => accounts::set_disabled(page, &id).await,
        AdminRoute::Webhooks => webhooks::webhooks(page).await,
        AdminRoute::WebhookDelivery(id) => webhooks::delivery(page, &id).await,
        AdminRoute::WebhookReplay(id) => webhooks::replay(page, &id).await,
        AdminRoute::WebhookEndpointDisabled(id) => webhooks::set_disabled(page, &id).await,
        AdminRoute::Apps => apps::apps(page).await,
        AdminRoute::AppInstall(id) => apps::install(page, &id).await,
        AdminRoute::AppConfigure(id) => apps::configure(page, &id).await,
        AdminRoute::AppUninstall(id) => apps::uninstall(page, &id).await,
    }
}

/// The admin pages' own statements: counts, the list, the switch of `active`, the admin's
/// schedule of a practitioner and the summary of their slots. Nothing here reads patient
/// data.
pub fn statements() -> Vec<Statement> {
    STATEMENTS.to_vec()
}

pub(crate) const COUNTS: &str = "admin.counts";
pub(crate) const PRACTITIONERS: &str = "admin.practitioners";
pub(crate) const SET_ACTIVE: &str = "admin.practitioner-set-active";
pub(crate) const SCHEDULE_UPSERT: &str = "admin.schedule-upsert";
pub(crate) const SLOT_SUMMARY: &str = "admin.slot-summary";
pub(crate) const PRICE_RETIRE: &str = "admin.price-retire";
pub(crate) const PRICE_RETIRE_TYPE: &str = "admin.price-retire-type";

/// The most practitioners the list shows (a clinic has dozens, not thousands).
const LIST_LIMIT: i64 = 500;

static STATEMENTS: &[Statement] = &[
    Statement {
        name: COUNTS,
        sql: "SELECT (SELECT count(*) FROM practitioners) AS practitioners, \
                     (SELECT count(*) FROM practitioners WHERE active IS NOT FALSE) AS active, \
                     (SELECT count(*) FROM slots WHERE status = 'free' AND starts_at > now()) AS free_slots, \
                     (SELECT count(*) FROM charge_item_definitions WHERE status = 'active') AS prices, \
                     (SELECT count(*) FROM accounts WHERE NOT disabled) AS accounts, \
                     (SELECT count(*) FROM app_installations WHERE status = 'installed') AS apps",
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[],
        audit: None,
    },
    Statement {
        name: PRACTITIONERS,
        // `active` absent counts as active (FHIR: a record in use unless said otherwise).
        sql: "SELECT p.id, p.family, p.given, p.active IS NOT FALSE AS active, \
                     p.resource->'qualification'->0->'code'->>'text' AS qualification, \
                     (SELECT count(*) FROM slots s JOIN schedules sc ON sc.id = s.schedule \
                      WHERE sc.practitioner = p.id AND s.status = 'free' AND s.starts_at > now()) AS free_slots \
              FROM practitioners p ORDER BY lower(p.family), lower(p.given), p.seq LIMIT $1",
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[p("limit", ParamType::Int8)],
        audit: Some(Audit {
            action: "search",
            resource_type: "Practitioner",
        }),
    },
    Statement {
        name: SET_ACTIVE,
        // The element and its search column change together, as every write keeps them.
        sql: "UPDATE practitioners SET resource = jsonb_set(resource, '{active}', to_jsonb($2::boolean)), \
                     active = $2, version_id = version_id + 1, last_updated = now() \
              WHERE id = $1 RETURNING id, version_id, last_updated, resource",
        access: Access::Write,
        scope: SchemaScope::Tenant,
        params: &[p("id", ParamType::Uuid), p("active", ParamType::Bool)],
        audit: Some(Audit {
            action: "update",
            resource_type: "Practitioner",
        }),
    },
    Statement {
        name: SCHEDULE_UPSERT,
        // The admin's schedule of a practitioner has an id derived from theirs
        // ([`availability::schedule_id`]), so the post that sets availability creates or
        // updates it and generates its slots in the same batch, with no read before.
        sql: "INSERT INTO schedules (id, resource, practitioner, active) VALUES ($1, $2, $3, $4) \
              ON CONFLICT (id) DO UPDATE SET resource = EXCLUDED.resource, \
                     practitioner = EXCLUDED.practitioner, active = EXCLUDED.active, \
                     version_id = schedules.version_id + 1, last_updated = now() \
              RETURNING id, version_id, last_updated, resource",
        access: Access::Write,
        scope: SchemaScope::Tenant,
        params: &[
            p("id", ParamType::Uuid),
            p("resource", ParamType::Jsonb),
            p("practitioner", ParamType::Uuid),
            p("active", ParamType::Bool),
        ],
        audit: Some(Audit {
            action: "update",
            resource_type: "Schedule",
        }),
    },
    Statement {
        name: PRICE_RETIRE,
        // A retired price stays (invoices issued point at it); its element and column
        // change together.
        sql: "UPDATE charge_item_definitions SET resource = jsonb_set(resource, '{status}', '\"retired\"'), \
                     status = 'retired', version_id = version_id + 1, last_updated = now() \
              WHERE id = $1 AND status = 'active' RETURNING id, version_id, last_updated, resource",
        access: Access::Write,
        scope: SchemaScope::Tenant,
        params: &[p("id", ParamType::Uuid)],
        audit: Some(Audit {
            action: "update",
            resource_type: "ChargeItemDefinition",
        }),
    },
    Statement {
        name: PRICE_RETIRE_TYPE,
        // Before a type's new price, in the same batch: its active price (if any) retires.
        sql: "UPDATE charge_item_definitions SET resource = jsonb_set(resource, '{status}', '\"retired\"'), \
                     status = 'retired', version_id = version_id + 1, last_updated = now() \
              WHERE code = $1 AND status = 'active' RETURNING id, version_id, last_updated, resource",
        access: Access::Write,
        scope: SchemaScope::Tenant,
        params: &[p("code", ParamType::Text)],
        audit: Some(Audit {
            action: "update",
            resource_type: "ChargeItemDefinition",
        }),
    },
    Statement {
        name: SLOT_SUMMARY,
        sql: "SELECT count(*) AS free, fhir_instant(min(s.starts_at)) AS first, \
                     fhir_instant(max(s.starts_at)) AS last \
              FROM slots s JOIN schedules sc ON sc.id = s.schedule \
              WHERE sc.practitioner = $1 AND s.status = 'free' AND s.starts_at > now()",
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[p("practitioner", ParamType::Uuid)],
        audit: None,
    },
];

/// The rows of the statement at `index` of an answer.
fn rows(response: &BatchResponse, index: usize) -> Result<&[Map<String, Value>], PageError> {
    response
        .results
        .get(index)
        .map(|r| r.rows.as_slice())
        .ok_or_else(|| PageError::Internal(format!("statement {index} has no result")))
}

fn int(row: &Map<String, Value>, key: &str) -> i64 {
    row.get(key).and_then(Value::as_i64).unwrap_or(0)
}

/// A link back to a page above this one.
fn back<H: Host>(page: &Page<'_, '_, H>, href: &str, id: &str) -> String {
    format!(r#"<p><a href="{href}">{}</a></p>"#, page.t(id))
}

/// An instant the region gave as the page shows it ([`super::when::time_element`]): the
/// clinic's time zone is not modelled yet, every admin time is UTC and says so.
fn utc_time(locale: crate::i18n::locale::Locale, instant: &str) -> String {
    super::when::time_element(locale, instant)
}

/// `/admin`: what the clinic has, and where to manage it.
async fn dashboard<H: Host>(page: &mut Page<'_, '_, H>) -> Result<Response<Vec<u8>>, PageError> {
    if page.req.method() == Method::POST {
        return Err(PageError::MethodNotAllowed);
    }
    let answer = page
        .read(vec![Call {
            name: COUNTS.into(),
            params: vec![],
        }])
        .await?;
    let row = rows(&answer, 0)?
        .first()
        .ok_or_else(|| PageError::Internal(format!("{COUNTS}: no row")))?;
    let title = page.t("admin-title");
    let body = format!(
        r#"<main>
<h1>{title}</h1>
<p>{intro}</p>
<h2><a href="/admin/practitioners">{practitioners}</a></h2>
<p>{count} · {active}</p>
<p>{slots}</p>
<h2><a href="/admin/prices">{prices}</a></h2>
<p>{price_count}</p>
<h2><a href="/admin/accounts">{accounts}</a></h2>
<p>{account_count}</p>
<h2><a href="/admin/webhooks">{webhooks}</a></h2>
<p>{webhooks_intro}</p>
<h2><a href="/admin/apps">{apps}</a></h2>
<p>{app_count}</p>
</main>"#,
        intro = page.t("admin-intro"),
        practitioners = page.t("admin-practitioners-title"),
        count = page.tr(
            "admin-practitioners-count",
            &[("count", Arg::Num(int(row, "practitioners")))]
        ),
        active = page.tr(
            "admin-active-count",
            &[("count", Arg::Num(int(row, "active")))]
        ),
        slots = page.tr(
            "admin-free-slots-count",
            &[("count", Arg::Num(int(row, "free_slots")))]
        ),
        prices = page.t("admin-prices-title"),
        price_count = page.tr(
            "admin-prices-count",
            &[("count", Arg::Num(int(row, "prices")))]
        ),
        accounts = page.t("admin-accounts-title"),
        account_count = page.tr(
            "admin-accounts-count",
            &[("count", Arg::Num(int(row, "accounts")))]
        ),
        webhooks = page.t("admin-webhooks-title"),
        webhooks_intro = page.t("admin-webhooks-dashboard"),
        apps = page.t("apps-admin-title"),
        app_count = page.tr(
            "apps-installed-count",
            &[("count", Arg::Num(int(row, "apps")))]
        ),
    );
    Ok(page.render(StatusCode::OK, &title, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_paths() {
        assert_eq!(AdminRoute::parse(&[]), Some(AdminRoute::Dashboard));
        assert_eq!(
            AdminRoute::parse(&["practitioners"]),
            Some(AdminRoute::Practitioners)
        );
        assert_eq!(
            AdminRoute::parse(&["practitioners", "x", "availability"]),
            Some(AdminRoute::Availability("x".into()))
        );
        assert_eq!(
            AdminRoute::parse(&["practitioners", "x", "active"]),
            Some(AdminRoute::PractitionerActive("x".into()))
        );
        assert_eq!(AdminRoute::parse(&["prices"]), Some(AdminRoute::Prices));
        assert_eq!(
            AdminRoute::parse(&["prices", "x", "retire"]),
            Some(AdminRoute::PriceRetire("x".into()))
        );
        assert_eq!(AdminRoute::parse(&["accounts"]), Some(AdminRoute::Accounts));
        assert_eq!(
            AdminRoute::parse(&["accounts", "x", "disabled"]),
            Some(AdminRoute::AccountDisabled("x".into()))
        );
        assert_eq!(AdminRoute::parse(&["webhooks"]), Some(AdminRoute::Webhooks));
        assert_eq!(
            AdminRoute::parse(&["webhooks", "deliveries", "7"]),
            Some(AdminRoute::WebhookDelivery("7".into()))
        );
        assert_eq!(
            AdminRoute::parse(&["webhooks", "deliveries", "7", "replay"]),
            Some(AdminRoute::WebhookReplay("7".into()))
        );
        assert_eq!(
            AdminRoute::parse(&["webhooks", "endpoints", "x", "disabled"]),
            Some(AdminRoute::WebhookEndpointDisabled("x".into()))
        );
        assert_eq!(AdminRoute::parse(&["webhooks", "endpoints"]), None);
        assert_eq!(AdminRoute::parse(&["apps"]), Some(AdminRoute::Apps));
        assert_eq!(
            AdminRoute::parse(&["apps", "x", "install"]),
            Some(AdminRoute::AppInstall("x".into()))
        );
        assert_eq!(
            AdminRoute::parse(&["apps", "x", "uninstall"]),
            Some(AdminRoute::AppUninstall("x".into()))
        );
        assert_eq!(AdminRoute::parse(&["apps", "x"]), None);
        assert_eq!(AdminRoute::parse(&["practitioners", "x"]), None);
        assert_eq!(AdminRoute::parse(&["nope"]), None);
    }

    #[test]
    fn instants_show_in_utc_and_say_so() {
        let en = crate::i18n::locale::Locale::from_tag("en").unwrap();
        let shown = utc_time(en, "2026-12-01T09:20:00Z").replace(['\u{2068}', '\u{2069}'], "");
        assert_eq!(
            shown,
            r#"<time datetime="2026-12-01T09:20:00Z">Dec 1, 2026, 09:20 UTC</time>"#
        );
        assert!(utc_time(en, "<b>").contains("&lt;b&gt;"));
    }

    #[test]
    fn the_statements_are_named_for_the_admin() {
        for s in statements() {
            assert!(s.name.starts_with("admin."), "{}", s.name);
        }
    }
}
