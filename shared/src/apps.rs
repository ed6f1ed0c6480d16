//! The marketplace (issue 11): third-party apps a clinic installs, granting each a subset of
//! the SMART scopes it asked for.
//!
//! - **The catalog** lives on the control plane (`control.apps`, `control.oauth_clients`,
//!   replicated to every region): operators register apps with `regional-db apps add`
//!   (whose spec [`AppSpec::parse`] checks here, so every rule of an app is in one place)
//!   and approve or reject them. Pages read approved apps with [`names::CATALOG`], a clinic
//!   statement that reads the control schema's copy in the clinic's home region.
//! - **Installations** live in the clinic's schema (`app_installations`): a clinic sees
//!   and changes only its own. [`check_grant`] decides what a clinic may grant (a subset
//!   of the app's scopes; scopes that reach patients' data only where the clinic's policy
//!   records the patients' consent to sharing with apps: [`sharing_consent`]); the install
//!   statement checks again that the app is approved and the grant a subset, in the
//!   database, so a stale page cannot grant more.
//! - **Webhooks**: an app with a webhook URL gets, in each clinic that installs it, an
//!   endpoint it owns, subscribed to the events the grant lets it read
//!   ([`events_allowed`], the one place that maps scopes to events) and to `app.*`.
//!   Its signing key is the app's `whsec_` secret, which no statement reads: the region
//!   replaces a [`ParamType::AppWebhookSecret`] parameter by the key sealed with the
//!   clinic's data key. Installing writes `app.installed`, uninstalling `app.uninstalled`
//!   (triggers of `migrations/tenant/0019_app_events.sql`).
//!
//! Every install, configure and uninstall is in the clinic's audit trail (resource type
//! [`AUDIT_TYPE`], the app's id, the admin who did it).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::{
    auth::{Perms, Scope, ScopeContext, Scopes},
    compliance::{ConsentRule, Policy, Processing},
    dataplane::statement::{Access, Audit, ParamType, SchemaScope, Statement, opt, p},
    i18n::locale::Locale,
    money::{Currency, Money, parse_decimal},
};

/// What an app does, for the marketplace's filter (the table checks the same list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    Iot,
    Analytics,
    Communication,
    Scheduling,
    Billing,
    Clinical,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::Iot,
        Category::Analytics,
        Category::Communication,
        Category::Scheduling,
        Category::Billing,
        Category::Clinical,
    ];

    /// The stored and URL name (`iot`, `analytics`…).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Iot => "iot",
            Self::Analytics => "analytics",
            Self::Communication => "communication",
            Self::Scheduling => "scheduling",
            Self::Billing => "billing",
            Self::Clinical => "clinical",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// What an app costs the clinic. Stored as JSON: `{"model": "free"}` or
/// `{"model": "monthly", "amount": "9.90", "currency": "EUR"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pricing {
    Free,
    /// A positive amount per month, exact at the currency's minor units.
    Monthly(Money),
}

impl Pricing {
    /// Parses the stored JSON (or an app spec's `pricing`).
    pub fn from_json(v: &Value) -> Result<Pricing, AppError> {
        let bad = |why: &str| AppError::Pricing(why.to_owned());
        let o = v.as_object().ok_or_else(|| bad("an object with a model"))?;
        match o.get("model").and_then(Value::as_str) {
            Some("free") if o.len() == 1 => Ok(Pricing::Free),
            Some("free") => Err(bad("a free app has no amount or currency")),
            Some("monthly") => {
                if o.keys()
                    .any(|k| !["model", "amount", "currency"].contains(&k.as_str()))
                {
                    return Err(bad("only model, amount and currency"));
                }
                let amount = o
                    .get("amount")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("amount is a decimal string such as \"9.90\""))?;
                let currency: Currency = o
                    .get("currency")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("currency is an ISO 4217 code such as \"EUR\""))?
                    .parse()
                    .map_err(|e| bad(&format!("{e}")))?;
                let money = parse_decimal(amount)
                    .and_then(|d| Money::new(d, currency))
                    .map_err(|e| bad(&e.to_string()))?;
                if money.is_zero() || money.is_negative() {
                    return Err(bad("a monthly price is more than zero (use \"free\")"));
                }
                Ok(Pricing::Monthly(money))
            }
            _ => Err(bad("model is \"free\" or \"monthly\"")),
        }
    }

    /// The stored JSON.
    pub fn to_json(&self) -> Value {
        match self {
            Pricing::Free => serde_json::json!({"model": "free"}),
            Pricing::Monthly(m) => serde_json::json!({
                "model": "monthly",
                "amount": m.amount().to_string(),
                "currency": m.currency().code(),
            }),
        }
    }
}

/// How an app's OAuth client authenticates at the token endpoint.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientAuth {
    /// A secret the platform draws (`client_secret_basic`), shown once.
    SecretBasic,
    /// Signed assertions (`private_key_jwt`) checked with these keys (a JWKS).
    Jwks(Value),
    /// Signed assertions checked with the keys the app publishes at this `https` URL.
    JwksUrl(String),
}

/// Why an app spec, a grant or a configuration is refused. Messages name the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The spec is not a JSON object, or has a field the spec does not know.
    #[error("{0}")]
    Shape(String),
    /// A required field is missing or empty.
    #[error("{0} is required")]
    Missing(&'static str),
    /// A field's value is refused, with why.
    #[error("{field}: {why}")]
    Invalid { field: &'static str, why: String },
    /// `pricing` is not one of the two shapes.
    #[error("pricing: {0}")]
    Pricing(String),
    /// A scope does not parse as a SMART scope a backend service can hold.
    #[error(
        "scope {0:?} is not a SMART system scope (system/<Type or *>.<cruds letters in order>, or v1 .read/.write/.*)"
    )]
    Scope(String),
}

/// Why a clinic's grant is refused (each maps to a localized message on the admin page).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrantError {
    /// No scope chosen: an app installed with nothing granted could do nothing.
    #[error("choose at least one scope to grant")]
    Empty,
    /// A scope the app did not request.
    #[error("the app did not request {0}")]
    NotRequested(String),
    /// A scope reaching patients' data where the clinic's policy records no consent to
    /// sharing with apps.
    #[error(
        "{0} reaches patients' data, which this clinic's policy does not let it share with apps"
    )]
    NoConsent(String),
}

/// Event types an app's endpoint may subscribe to: the data events, then `app.*` (which
/// an app's own endpoint always takes).
pub const EVENT_TYPES: [&str; 6] = [
    "appointment.booked",
    "appointment.cancelled",
    "observation.created",
    "patient.created",
    APP_INSTALLED,
    APP_UNINSTALLED,
];
pub const APP_INSTALLED: &str = "app.installed";
pub const APP_UNINSTALLED: &str = "app.uninstalled";

/// The data events and the resource an app must be granted read access to for each: an
/// event names the resource, so it tells no more than a read would.
const DATA_EVENTS: [(&str, &str); 4] = [
    ("appointment.booked", "Appointment"),
    ("appointment.cancelled", "Appointment"),
    ("observation.created", "Observation"),
    ("patient.created", "Patient"),
];

/// The events of `wanted` an app holding `granted` may receive: a data event only with
/// read access to its resource, `app.*` always. The one place that maps scopes to events.
pub fn events_allowed<'w>(granted: &Scopes, wanted: &[&'w str]) -> Vec<&'w str> {
    wanted
        .iter()
        .copied()
        .filter(|e| match DATA_EVENTS.iter().find(|(name, _)| name == e) {
            Some((_, resource)) => granted.allows(resource, Perms::READ),
            None => *e == APP_INSTALLED || *e == APP_UNINSTALLED,
        })
        .collect()
}

/// Resource types that hold no patient's data: the clinic's own directory and calendar.
/// A scope on any other type — or on `*` — reaches patients' data.
pub const NON_PATIENT_TYPES: [&str; 8] = [
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Location",
    "HealthcareService",
    "Schedule",
    "Slot",
    "ChargeItemDefinition",
];

/// Whether `scope` reaches patients' data (see [`NON_PATIENT_TYPES`]).
pub fn reaches_patient_data(scope: &Scope) -> bool {
    !NON_PATIENT_TYPES.contains(&scope.resource.as_str())
}

/// The consent of `policy` under which patients' data may be shared with apps (the rule
/// that gates [`Processing::SharingWithApps`]); `None`: the clinic may grant apps nothing
/// that reaches patients' data.
pub fn sharing_consent(policy: &Policy) -> Option<&'static ConsentRule> {
    policy
        .consents
        .iter()
        .find(|r| r.gates.contains(&Processing::SharingWithApps))
}

/// One scope as stored: parsed, a backend service's (`system/`), in its v2 spelling.
pub fn parse_scope(s: &str) -> Result<Scope, AppError> {
    match s.parse::<Scope>() {
        Ok(scope) if scope.context == ScopeContext::System => Ok(scope),
        _ => Err(AppError::Scope(s.to_owned())),
    }
}

/// Space-separated scopes in their stored spelling: each [`parse_scope`]d, v1 names
/// (`system/Patient.read`) written as v2 (`system/Patient.rs`), duplicates dropped, order
/// kept. At least one.
pub fn normalize_scopes(s: &str) -> Result<String, AppError> {
    let mut out: Vec<String> = Vec::new();
    for part in s.split_ascii_whitespace() {
        let v2 = parse_scope(part)?.to_string();
        if !out.contains(&v2) {
            out.push(v2);
        }
    }
    if out.is_empty() {
        return Err(AppError::Missing("requested_scopes"));
    }
    let joined = out.join(" ");
    if joined.len() > 2000 {
        return Err(AppError::Invalid {
            field: "requested_scopes",
            why: "at most 2000 characters".into(),
        });
    }
    Ok(joined)
}

/// The scopes an admin chose, before the app's request is known (the install page's post
/// carries no copy of it: the install statement checks the subset in the database): at least
/// one, each a scope a backend service may hold, none reaching patients' data where the
/// clinic's policy records no consent to sharing with apps. Returns them normalized,
/// without duplicates.
pub fn check_choice(chosen: &[&str], policy: &Policy) -> Result<Vec<String>, GrantError> {
    let mut out: Vec<String> = Vec::new();
    for c in chosen {
        let scope = parse_scope(c).map_err(|_| GrantError::NotRequested((*c).to_owned()))?;
        let v2 = scope.to_string();
        if reaches_patient_data(&scope) && sharing_consent(policy).is_none() {
            return Err(GrantError::NoConsent(v2));
        }
        if !out.contains(&v2) {
            out.push(v2);
        }
    }
    if out.is_empty() {
        return Err(GrantError::Empty);
    }
    Ok(out)
}

/// What a clinic grants an app: `chosen` (scopes as the app requested them) must be a
/// non-empty subset of `requested` (stored, normalized), and a scope that reaches patients'
/// data needs the clinic's policy to have a consent to sharing with apps. Returns the grant
/// as stored (space-separated, in the app's order).
pub fn check_grant(
    requested: &str,
    chosen: &[&str],
    policy: &Policy,
) -> Result<String, GrantError> {
    let requested: Vec<&str> = requested.split_ascii_whitespace().collect();
    let chosen = check_choice(chosen, policy)?;
    if let Some(extra) = chosen.iter().find(|c| !requested.contains(&c.as_str())) {
        return Err(GrantError::NotRequested(extra.clone()));
    }
    Ok(requested
        .into_iter()
        .filter(|r| chosen.iter().any(|c| c == r))
        .collect::<Vec<_>>()
        .join(" "))
}

/// The most settings an installation's configuration holds, and their sizes.
pub const MAX_CONFIG_KEYS: usize = 32;
pub const MAX_CONFIG_BYTES: usize = 4096;
const MAX_CONFIG_VALUE_CHARS: usize = 500;

/// An installation's settings: a flat JSON object (at most [`MAX_CONFIG_KEYS`] keys of
/// `[a-z0-9_.-]{1,64}`, values strings of at most 500 characters, numbers, booleans or
/// null), at most [`MAX_CONFIG_BYTES`] as text. Empty text is `{}`.
pub fn parse_config(text: &str) -> Result<Map<String, Value>, AppError> {
    let bad = |why: &str| AppError::Invalid {
        field: "config",
        why: why.to_owned(),
    };
    let text = text.trim();
    if text.is_empty() {
        return Ok(Map::new());
    }
    if text.len() > MAX_CONFIG_BYTES {
        return Err(bad("at most 4096 bytes"));
    }
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
        return Err(bad("a JSON object such as {\"unit\": \"mmol/L\"}"));
    };
    if map.len() > MAX_CONFIG_KEYS {
        return Err(bad("at most 32 settings"));
    }
    for (k, v) in &map {
        let key_ok = (1..=64).contains(&k.len())
            && k.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b));
        if !key_ok {
            return Err(bad(&format!(
                "setting {k:?}: names are 1 to 64 of a-z 0-9 _ . -"
            )));
        }
        let value_ok = match v {
            Value::String(s) => s.chars().count() <= MAX_CONFIG_VALUE_CHARS,
            Value::Null | Value::Bool(_) | Value::Number(_) => true,
            Value::Array(_) | Value::Object(_) => false,
        };
        if !value_ok {
            return Err(bad(&format!(
                "setting {k:?}: a string (at most 500 characters), number, boolean or null"
            )));
        }
    }
    Ok(map)
}

/// An app as an operator registers it (`regional-db apps add --file app.json`), checked.
#[derive(Debug, Clone, PartialEq)]
pub struct AppSpec {
    pub slug: String,
    /// Per locale tag; `en` always present.
    pub names: BTreeMap<String, String>,
    pub descriptions: BTreeMap<String, String>,
    pub developer: String,
    pub developer_url: Option<String>,
    pub icon_url: Option<String>,
    pub category: Category,
    pub pricing: Pricing,
    /// Normalized ([`normalize_scopes`]).
    pub requested_scopes: String,
    pub webhook_url: Option<String>,
    pub webhook_events: Vec<String>,
    pub client: ClientAuth,
}

const SPEC_FIELDS: [&str; 12] = [
    "slug",
    "names",
    "descriptions",
    "developer",
    "developer_url",
    "icon_url",
    "category",
    "pricing",
    "requested_scopes",
    "webhook_url",
    "webhook_events",
    "client",
];

impl AppSpec {
    /// Checks every field of an app spec (the JSON of `apps add`), naming the first refused.
    pub fn parse(v: &Value) -> Result<AppSpec, AppError> {
        let o = v
            .as_object()
            .ok_or_else(|| AppError::Shape("an app spec is a JSON object".into()))?;
        if let Some(k) = o.keys().find(|k| !SPEC_FIELDS.contains(&k.as_str())) {
            return Err(AppError::Shape(format!(
                "unknown field {k:?} (known: {})",
                SPEC_FIELDS.join(", ")
            )));
        }
        let invalid = |field: &'static str, why: &str| AppError::Invalid {
            field,
            why: why.to_owned(),
        };
        let text = |field: &'static str| -> Result<Option<&str>, AppError> {
            match o.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(invalid(field, "a string")),
            }
        };
        let slug = text("slug")?.ok_or(AppError::Missing("slug"))?;
        if !slug_ok(slug) {
            return Err(invalid(
                "slug",
                "1 to 63 of a-z 0-9 and inner '-' (e.g. glucose-sync)",
            ));
        }
        let names = localized(o.get("names"), "names", 100)?;
        let descriptions = localized(o.get("descriptions"), "descriptions", 2000)?;
        let developer = text("developer")?
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .ok_or(AppError::Missing("developer"))?;
        if developer.chars().count() > 200 {
            return Err(invalid("developer", "at most 200 characters"));
        }
        let developer_url = text("developer_url")?
            .map(|u| https_url("developer_url", u))
            .transpose()?;
        let icon_url = text("icon_url")?
            .map(|u| https_url("icon_url", u))
            .transpose()?;
        let category = text("category")?.ok_or(AppError::Missing("category"))?;
        let category = Category::parse(category).ok_or_else(|| {
            invalid(
                "category",
                &format!("one of {}", Category::ALL.map(Category::as_str).join(", ")),
            )
        })?;
        let pricing = match o.get("pricing") {
            None | Some(Value::Null) => Pricing::Free,
            Some(p) => Pricing::from_json(p)?,
        };
        let requested_scopes = normalize_scopes(
            text("requested_scopes")?.ok_or(AppError::Missing("requested_scopes"))?,
        )?;
        let webhook_url = text("webhook_url")?
            .map(|u| {
                let ok = (u.starts_with("https://") || u.starts_with("http://"))
                    && u.len() <= 2048
                    && u.split_once("://")
                        .is_some_and(|(_, rest)| !rest.is_empty())
                    && !u.chars().any(|c| c.is_whitespace() || c.is_control());
                if ok {
                    Ok(u.to_owned())
                } else {
                    Err(invalid(
                        "webhook_url",
                        "an http(s) URL of at most 2048 characters",
                    ))
                }
            })
            .transpose()?;
        let webhook_events: Vec<String> = match o.get("webhook_events") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => {
                let mut out = Vec::new();
                for e in a {
                    let e = e
                        .as_str()
                        .filter(|e| EVENT_TYPES.contains(e))
                        .ok_or_else(|| {
                            invalid(
                                "webhook_events",
                                &format!(
                                    "{e} is not an event type (known: {})",
                                    EVENT_TYPES.join(", ")
                                ),
                            )
                        })?;
                    if !out.iter().any(|x| x == e) {
                        out.push(e.to_owned());
                    }
                }
                out
            }
            Some(_) => return Err(invalid("webhook_events", "an array of event types")),
        };
        if webhook_url.is_none() && !webhook_events.is_empty() {
            return Err(invalid("webhook_events", "needs a webhook_url"));
        }
        let client = client_auth(o.get("client").ok_or(AppError::Missing("client"))?)?;
        Ok(AppSpec {
            slug: slug.to_owned(),
            names,
            descriptions,
            developer: developer.to_owned(),
            developer_url,
            icon_url,
            category,
            pricing,
            requested_scopes,
            webhook_url,
            webhook_events,
            client,
        })
    }
}

/// What `control.apps.slug` accepts.
pub fn slug_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let inner = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    (1..=63).contains(&b.len())
        && inner(&b[0])
        && inner(&b[b.len() - 1])
        && b.iter().all(|c| inner(c) || *c == b'-')
}

fn https_url(field: &'static str, u: &str) -> Result<String, AppError> {
    let ok = u.strip_prefix("https://").is_some_and(|r| !r.is_empty())
        && u.len() <= 2048
        && !u.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(u.to_owned())
    } else {
        Err(AppError::Invalid {
            field,
            why: "an https:// URL".into(),
        })
    }
}

/// `{"en": "…", "fr": "…"}`: `en` required, every key a locale the platform serves, each
/// text non-empty and at most `max` characters.
fn localized(
    v: Option<&Value>,
    field: &'static str,
    max: usize,
) -> Result<BTreeMap<String, String>, AppError> {
    let o = v
        .and_then(Value::as_object)
        .ok_or(AppError::Missing(field))?;
    let mut out = BTreeMap::new();
    for (tag, text) in o {
        if Locale::from_tag(tag).is_none_or(|l| l.tag() != tag) {
            return Err(AppError::Invalid {
                field,
                why: format!(
                    "{tag:?} is not a locale the platform serves ({})",
                    Locale::all()
                        .map(|l| l.tag())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        let text = text.as_str().map(str::trim).filter(|t| !t.is_empty());
        let Some(text) = text.filter(|t| t.chars().count() <= max) else {
            return Err(AppError::Invalid {
                field,
                why: format!("{tag}: a text of 1 to {max} characters"),
            });
        };
        out.insert(tag.clone(), text.to_owned());
    }
    if !out.contains_key("en") {
        return Err(AppError::Invalid {
            field,
            why: "an English (en) text is required: pages fall back to it".into(),
        });
    }
    Ok(out)
}

/// The key types a registered JWKS may hold (SMART Backend Services: RS384, ES384).
fn client_auth(v: &Value) -> Result<ClientAuth, AppError> {
    let invalid = |why: &str| AppError::Invalid {
        field: "client",
        why: why.to_owned(),
    };
    let o = v
        .as_object()
        .ok_or_else(|| invalid("an object with auth"))?;
    match o.get("auth").and_then(Value::as_str) {
        Some("client_secret_basic") if o.len() == 1 => Ok(ClientAuth::SecretBasic),
        Some("client_secret_basic") => Err(invalid("client_secret_basic takes no keys")),
        Some("private_key_jwt") => match (o.get("jwks"), o.get("jwks_url")) {
            (Some(jwks), None) => {
                let keys = jwks
                    .get("keys")
                    .and_then(Value::as_array)
                    .filter(|k| !k.is_empty())
                    .ok_or_else(|| invalid("jwks is {\"keys\": [ … ]} with at least one key"))?;
                for k in keys {
                    let kty = k.get("kty").and_then(Value::as_str);
                    let kid = k
                        .get("kid")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty());
                    if !matches!(kty, Some("RSA" | "EC")) || kid.is_none() {
                        return Err(invalid("every key has a kid and kty RSA or EC"));
                    }
                    if k.get("d").is_some() {
                        return Err(invalid("a JWKS of public keys only (a key has \"d\")"));
                    }
                }
                Ok(ClientAuth::Jwks(jwks.clone()))
            }
            (None, Some(Value::String(url))) => https_url("client", url).map(ClientAuth::JwksUrl),
            _ => Err(invalid(
                "private_key_jwt takes jwks or jwks_url (one of them)",
            )),
        },
        _ => Err(invalid("auth is client_secret_basic or private_key_jwt")),
    }
}

/// The marketplace's statement names.
pub mod names {
    /// `apps.catalog(category?)`: approved apps (from the control plane's replicated copy).
    pub const CATALOG: &str = "apps.catalog";
    /// `apps.installations()`: the clinic's installations, installed or not.
    pub const INSTALLATIONS: &str = "apps.installations";
    /// `apps.endpoint(app, events, secret)`: the app's webhook endpoint, made or updated.
    pub const ENDPOINT: &str = "apps.endpoint";
    /// `apps.install(app, scopes, config, by)`.
    pub const INSTALL: &str = "apps.install";
    /// `apps.configure(app, config)`.
    pub const CONFIGURE: &str = "apps.configure";
    /// `apps.uninstall(app, by)`.
    pub const UNINSTALL: &str = "apps.uninstall";
    /// `apps.endpoint-disable(app)`: the app's endpoint off.
    pub const ENDPOINT_DISABLE: &str = "apps.endpoint-disable";
    /// `apps.deliveries-drop(app)`: the disabled endpoint's pending deliveries failed (the
    /// app lost its access: a reinstall must not deliver what it missed).
    pub const DELIVERIES_DROP: &str = "apps.deliveries-drop";
}

/// The resource type installs, configurations and uninstalls are audited as.
pub const AUDIT_TYPE: &str = "AppInstallation";

const fn audit(action: &'static str) -> Option<Audit> {
    Some(Audit {
        action,
        resource_type: AUDIT_TYPE,
    })
}

/// The most apps the catalog shows.
pub const CATALOG_LIMIT: i64 = 500;

/// The marketplace's statements, for the catalog ([`crate::dataplane::catalog::all`]).
///
/// - `apps.catalog(category?)` → `id, slug, names, descriptions, developer, developer_url,
///   icon_url, category, pricing, requested_scopes, webhook_events, has_webhook` of
///   approved apps, by slug. Never the webhook secret (the service may not select it).
/// - `apps.installations()` → `id` (the app), `client_id, slug, names, requested_scopes,
///   approved, granted_scopes, config, status, installed_by, installed_at,
///   uninstalled_by, uninstalled_at`.
/// - `apps.endpoint(app, events, secret)` → `id`: only for an approved app with a webhook
///   whose `events` (the data events [`events_allowed`] gives) are intersected with what
///   the app subscribes to, plus `app.*`. Runs before `apps.install` in the same batch,
///   with the same checks, so `app.installed` reaches it. A reinstall keeps the sealed key
///   of the first (the service may write `secret_sealed`, never read it — and an upsert
///   that set it from `EXCLUDED` would read it).
/// - `apps.install(app, scopes, config, by)` → `id, client_id, granted_scopes, status,
///   installed_at`: no row when the app is not approved or `scopes` is not a subset of its
///   requested scopes. A reinstall (or a new grant) moves `installed_at` and keeps the
///   configuration (`config` is the first install's).
/// - `apps.configure(app, config)` → `id, config` of an installed app.
/// - `apps.uninstall(app, by)` → `id, status`; `apps.endpoint-disable(app)` → `id` and
///   `apps.deliveries-drop(app)` → `id`, run before it so `app.uninstalled` goes to the
///   clinic's own endpoints only and nothing pending reaches the app later.
pub fn statements() -> Vec<Statement> {
    STATEMENTS.to_vec()
}

static STATEMENTS: &[Statement] = &[
    Statement {
        name: names::CATALOG,
        sql: "SELECT a.id, a.slug, a.names, a.descriptions, a.developer, a.developer_url, a.icon_url, \
                     a.category, a.pricing, a.requested_scopes, a.webhook_events, \
                     a.webhook_url IS NOT NULL AS has_webhook \
              FROM control.apps a \
              WHERE a.status = 'approved' AND ($1::text IS NULL OR a.category = $1) \
              ORDER BY a.slug LIMIT 500",
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[opt("category", ParamType::Text)],
        audit: None,
    },
    Statement {
        name: names::INSTALLATIONS,
        sql: "SELECT i.app AS id, i.client_id, a.slug, a.names, a.requested_scopes, \
                     coalesce(a.status = 'approved', false) AS approved, i.granted_scopes, i.config, \
                     i.status, i.installed_by, fhir_instant(i.installed_at) AS installed_at, \
                     i.uninstalled_by, fhir_instant(i.uninstalled_at) AS uninstalled_at \
              FROM app_installations i LEFT JOIN control.apps a ON a.id = i.app \
              ORDER BY a.slug, i.app LIMIT 500",
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[],
        audit: None,
    },
    Statement {
        name: names::ENDPOINT,
        sql: "INSERT INTO webhook_endpoints (url, secret_sealed, event_types, description, app) \
              SELECT a.webhook_url, $3, \
                     ARRAY(SELECT e FROM unnest(a.webhook_events) e \
                           WHERE e IN (SELECT jsonb_array_elements_text($4)) \
                           UNION SELECT unnest(ARRAY['app.installed', 'app.uninstalled']) ORDER BY 1), \
                     left('app ' || a.slug, 200), a.id \
              FROM control.apps a \
              WHERE a.id = $1 AND a.status = 'approved' \
                    AND string_to_array($2, ' ') <@ string_to_array(a.requested_scopes, ' ') \
                    AND a.webhook_url IS NOT NULL AND $3 IS NOT NULL \
              ON CONFLICT (app) WHERE app IS NOT NULL DO UPDATE SET url = EXCLUDED.url, \
                     event_types = EXCLUDED.event_types, disabled_at = NULL, disabled_reason = NULL \
              RETURNING id, event_types",
        access: Access::Write,
        scope: SchemaScope::Tenant,
        params: &[
            p("app", ParamType::Uuid),
            p("scopes", ParamType::Text),
            opt("secret", ParamType::AppWebhookSecret),
            p("events", ParamType::Jsonb),
        ],
        audit: None,
    },
    Statement {
        name: names::INSTALL,
        sql: "INSERT INTO app_installations AS i (app, client_id, granted_scopes, config, installed_by) \
              SELECT a.id, c.client_id, $2, $3, $4 \
              FROM control.apps a JOIN control.oauth_clients c ON c.app = a.id \
              WHERE a.id = $1 AND a.status = 'approved' \
                    AND string_to_array($2, ' ') <@ string_to_array(a.requested_scopes, ' ') \
              ON CONFLICT (app) DO UPDATE SET client_id = EXCLUDED.client_id, \
                     granted_scopes = EXCLUDED.granted_scopes, \
                     status = 'installed', installed_by = EXCLUDED.installed_by, \
                     installed_at = now(), uninstalled_by = NULL, uninstalled_at = NULL \
              RETURNING i.app AS id, i.client_id, i.granted_scopes, i.status, \
                        fhir_instant(i.installed_at) AS installed_at",
        access: Access::Write,
        scope: SchemaScope::Tenant,
        params: &[
            p("app", ParamType::Uuid),
            p("scopes", ParamType::Text),
            p("config", ParamType::Jsonb),
            p("by", ParamType::Text),
        ],
        audit: audit("create"),
    },
    Statement {
        name: names::CONFIGURE,
        sql: "UPDATE app_installations SET config = $2 WHERE app = $1 AND status = 'installed' \
              RETURNING app AS id, config",
        access: Access::Write,
        scope: SchemaScope::Tenant,
        params: &[p("app", ParamType::Uuid), p("config", ParamType::Jsonb)],
        audit: audit("update"),
    },
    Statement {
        name: names::ENDPOINT_DISABLE,
        sql: "UPDATE webhook_endpoints SET disabled_at = now(), disabled_reason = 'app uninstalled' \
              WHERE app = $1 AND disabled_at IS NULL \
                AND EXISTS (SELECT 1 FROM app_installations WHERE app = $1 AND status = 'installed') \
              RETURNING id",
        access: Access::Write,
        scope: SchemaScope::Tenant,
        params: &[p("app", ParamType::Uuid)],
        audit: None,
    },
    Statement {
        name: names::DELIVERIES_DROP,
        sql: "UPDATE webhook_deliveries d SET status = 'failed', last_error = 'app uninstalled', \
                     updated_at = now() \
              FROM webhook_endpoints e \
              WHERE e.id = d.endpoint AND e.app = $1 AND e.disabled_at IS NOT NULL \
                AND d.status = 'pending' \
              RETURNING d.id",
        access: Access::Write,
        scope: SchemaScope::Tenant,
        params: &[p("app", ParamType::Uuid)],
        audit: None,
    },
    Statement {
        name: names::UNINSTALL,
        sql: "UPDATE app_installations SET status = 'uninstalled', uninstalled_at = now(), \
                     uninstalled_by = $2 \
              WHERE app = $1 AND status = 'installed' RETURNING app AS id, status",
        access: Access::Write,
        scope: SchemaScope::Tenant,
        params: &[p("app", ParamType::Uuid), p("by", ParamType::Text)],
        audit: audit("delete"),
    },
];

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{compliance::policy_for, country::CountryCode};

    fn spec() -> Value {
        json!({
            "slug": "glucose-sync",
            "names": {"en": "Glucose Sync", "fr": "Synchro glycémie"},
            "descriptions": {"en": "Sends readings."},
            "developer": "Acme Health",
            "category": "iot",
            "pricing": {"model": "monthly", "amount": "9.90", "currency": "EUR"},
            "requested_scopes": "system/Observation.crs system/Patient.read",
            "webhook_url": "https://acme.example/hook",
            "webhook_events": ["observation.created", "patient.created"],
            "client": {"auth": "client_secret_basic"}
        })
    }

    #[test]
    fn a_spec_is_checked_and_scopes_normalized() {
        let s = AppSpec::parse(&spec()).unwrap();
        assert_eq!(
            s.requested_scopes,
            "system/Observation.crs system/Patient.rs"
        );
        assert_eq!(s.category, Category::Iot);
        assert_eq!(
            s.pricing.to_json(),
            json!({"model": "monthly", "amount": "9.90", "currency": "EUR"})
        );
        assert_eq!(s.client, ClientAuth::SecretBasic);
        let refused = |patch: Value| {
            let mut v = spec();
            for (k, x) in patch.as_object().unwrap() {
                if x.is_null() {
                    v.as_object_mut().unwrap().remove(k);
                } else {
                    v[k] = x.clone();
                }
            }
            AppSpec::parse(&v).unwrap_err().to_string()
        };
        assert!(refused(json!({"slug": "Bad Slug"})).starts_with("slug:"));
        assert!(refused(json!({"names": {"fr": "x"}})).contains("English"));
        assert!(refused(json!({"names": {"en": "x", "de": "y"}})).contains("\"de\""));
        assert!(refused(json!({"category": "games"})).starts_with("category:"));
        assert!(
            refused(json!({"pricing": {"model": "monthly", "amount": "9.999", "currency": "EUR"}}))
                .starts_with("pricing:")
        );
        assert!(
            refused(json!({"pricing": {"model": "monthly", "amount": "9.90", "currency": "XXX"}}))
                .starts_with("pricing:")
        );
        assert!(
            refused(json!({"pricing": {"model": "monthly", "amount": "0", "currency": "EUR"}}))
                .starts_with("pricing:")
        );
        assert!(
            refused(json!({"requested_scopes": "system/Patient.rs patient/*.read"}))
                .contains("patient/*.read")
        );
        assert!(refused(json!({"requested_scopes": "system/Patient.sr"})).contains("Patient.sr"));
        assert!(
            refused(json!({"webhook_events": ["patient.deleted"]})).starts_with("webhook_events:")
        );
        assert!(refused(json!({"webhook_url": null})).contains("needs a webhook_url"));
        assert!(refused(json!({"client": {"auth": "none"}})).starts_with("client:"));
        assert!(
            refused(json!({"client": {"auth": "private_key_jwt", "jwks_url": "http://x"}}))
                .starts_with("client:")
        );
        assert!(refused(json!({"extra": 1})).contains("unknown field"));
        assert!(refused(json!({"developer": " "})).contains("developer is required"));
        let mut jwt = spec();
        jwt["client"] = json!({"auth": "private_key_jwt", "jwks": {"keys": [{"kty": "EC", "kid": "k1", "crv": "P-384", "x": "a", "y": "b"}]}});
        assert!(matches!(
            AppSpec::parse(&jwt).unwrap().client,
            ClientAuth::Jwks(_)
        ));
        jwt["client"] =
            json!({"auth": "private_key_jwt", "jwks_url": "https://acme.example/jwks.json"});
        assert!(matches!(
            AppSpec::parse(&jwt).unwrap().client,
            ClientAuth::JwksUrl(_)
        ));
    }

    #[test]
    fn events_follow_read_access() {
        let wanted = [
            "observation.created",
            "appointment.booked",
            "patient.created",
            "app.installed",
        ];
        let got = events_allowed(&Scopes::parse("system/Observation.rs"), &wanted);
        assert_eq!(got, ["observation.created", "app.installed"]);
        let got = events_allowed(
            &Scopes::parse("system/Observation.c system/Appointment.s"),
            &wanted,
        );
        assert_eq!(got, ["app.installed"]);
        let got = events_allowed(&Scopes::parse("system/*.r"), &wanted);
        assert_eq!(got, wanted);
    }

    #[test]
    fn a_grant_is_a_non_empty_subset_and_patient_data_needs_the_consent() {
        let fr = policy_for(&"FR".parse::<CountryCode>().unwrap());
        let requested = "system/Observation.crs system/Patient.rs system/Slot.rs";
        assert_eq!(
            check_grant(requested, &["system/Slot.rs", "system/Patient.read"], &fr),
            Ok("system/Patient.rs system/Slot.rs".into())
        );
        assert_eq!(check_grant(requested, &[], &fr), Err(GrantError::Empty));
        assert_eq!(
            check_grant(requested, &["system/Patient.cruds"], &fr),
            Err(GrantError::NotRequested("system/Patient.cruds".into()))
        );
        // Every reviewed policy records a consent to sharing with apps; one without it
        // grants only what reaches no patient.
        let none = Policy {
            consents: &[],
            ..fr
        };
        assert_eq!(
            check_grant(requested, &["system/Patient.rs"], &none),
            Err(GrantError::NoConsent("system/Patient.rs".into()))
        );
        assert_eq!(
            check_grant(requested, &["system/Slot.rs"], &none),
            Ok("system/Slot.rs".into())
        );
        assert_eq!(sharing_consent(&fr).unwrap().kind, "data-sharing");
        let us = policy_for(&"US".parse::<CountryCode>().unwrap());
        assert_eq!(sharing_consent(&us).unwrap().kind, "hipaa-authorization");
    }

    #[test]
    fn configurations_are_small_flat_objects() {
        assert_eq!(parse_config("").unwrap(), Map::new());
        assert_eq!(
            parse_config(r#"{"unit": "mmol/L", "every_min": 5}"#)
                .unwrap()
                .len(),
            2
        );
        for bad in [
            "[]",
            "{",
            r#"{"Unit": 1}"#,
            r#"{"a": {"b": 1}}"#,
            r#"{"a": [1]}"#,
        ] {
            assert!(parse_config(bad).is_err(), "{bad}");
        }
        assert!(parse_config(&format!(r#"{{"a": "{}"}}"#, "x".repeat(501))).is_err());
    }

    #[test]
    fn the_statements_are_named_for_the_marketplace() {
        for s in statements() {
            assert!(s.name.starts_with("apps."), "{}", s.name);
            assert!(!s.sql.contains("webhook_secret"), "{}", s.name);
        }
    }
}
