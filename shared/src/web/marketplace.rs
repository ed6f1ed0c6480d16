//! `/marketplace`: the apps a clinic may install, public, cached at the edge per (clinic,
//! path and category, locale) like the home page ([`super::public_page`]). A fresh hit costs
//! no region call; a miss one batch ([`crate::apps::names::CATALOG`], which the clinic's
//! home region answers from its replicated copy of the control plane's catalog).
//!
//! Each app shows its name and description in the page's language (English when the
//! developer gave none), its developer, category and price (CLDR money formatting, in the
//! clinic's country's conventions) and, in plain words, what it asks to access.

use serde_json::{Map, Value, json};

use super::layout::{document, escape, t};
use crate::{
    apps::{self, Category, Pricing},
    auth::{Perms, Scope},
    ctx::Ctx,
    dataplane::{
        client::DataError,
        wire::{BatchRequest, Call},
    },
    geo::RegionId,
    host::Host,
    i18n::{Arg, locale::Locale, message},
    tenant::{TenantEntry, TenantSlug},
};

/// An approved app, as the catalog statement returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogApp {
    pub id: String,
    pub slug: String,
    pub names: Map<String, Value>,
    pub descriptions: Map<String, Value>,
    pub developer: String,
    pub developer_url: Option<String>,
    pub icon_url: Option<String>,
    pub category: Option<Category>,
    /// `None`: a price this edge cannot read (shown as nothing rather than wrong).
    pub pricing: Option<Pricing>,
    /// As stored (normalized v2, space-separated).
    pub requested_scopes: String,
    pub webhook_events: Vec<String>,
}

impl CatalogApp {
    /// The app of one catalog row; `None` for a row without an id or slug.
    pub fn of(row: &Map<String, Value>) -> Option<CatalogApp> {
        let s = |k: &str| row.get(k).and_then(Value::as_str).map(str::to_owned);
        let obj = |k: &str| {
            row.get(k)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        Some(CatalogApp {
            id: s("id")?,
            slug: s("slug")?,
            names: obj("names"),
            descriptions: obj("descriptions"),
            developer: s("developer").unwrap_or_default(),
            developer_url: s("developer_url"),
            icon_url: s("icon_url"),
            category: s("category").as_deref().and_then(Category::parse),
            pricing: row.get("pricing").and_then(|p| Pricing::from_json(p).ok()),
            requested_scopes: s("requested_scopes").unwrap_or_default(),
            webhook_events: row
                .get("webhook_events")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    /// The name in `locale`, else in English, else the slug.
    pub fn name(&self, locale: Locale) -> &str {
        localized(&self.names, locale).unwrap_or(&self.slug)
    }

    pub fn description(&self, locale: Locale) -> &str {
        localized(&self.descriptions, locale).unwrap_or("")
    }
}

fn localized(texts: &Map<String, Value>, locale: Locale) -> Option<&str> {
    texts
        .get(locale.tag())
        .or_else(|| texts.get("en"))
        .and_then(Value::as_str)
}

/// The category filter of a query (`?category=iot`); anything else is no filter, so junk
/// queries share the unfiltered page's cache entry.
pub fn category_of(query: Option<&str>) -> Option<Category> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "category")
        .and_then(|(_, v)| Category::parse(&v))
}

/// Reads the catalog: one batch, as nobody. To the clinic's home region when the edge
/// knows it; else to `nearest` with `want_directory` (one call either way).
pub async fn load<H: Host>(
    ctx: &Ctx<'_, H>,
    slug: &TenantSlug,
    known: Option<&TenantEntry>,
    nearest: &RegionId,
    category: Option<Category>,
) -> Result<(Vec<CatalogApp>, Option<TenantEntry>), DataError> {
    let batch = BatchRequest {
        statements: vec![Call {
            name: apps::names::CATALOG.into(),
            params: vec![json!(category.map(Category::as_str))],
        }],
        want_directory: known.is_none(),
        idempotency: None,
        min_lsn: None,
    };
    let region = known.map_or(nearest, |e| &e.home_region);
    let response = ctx
        .region
        .batch(region, slug, Some("web/anonymous"), &batch)
        .await?;
    let list = response
        .results
        .first()
        .map(|r| r.rows.iter().filter_map(CatalogApp::of).collect())
        .unwrap_or_default();
    Ok((list, response.directory))
}

/// What one scope lets an app do, in plain words of `locale` (text, not escaped):
/// "read, search: patients' records". A scope that does not parse is shown as it is.
pub fn scope_words(locale: Locale, scope: &str) -> String {
    let Ok(parsed) = scope.parse::<Scope>() else {
        return scope.to_owned();
    };
    let perms: Vec<String> = [
        (Perms::CREATE, "apps-perm-c"),
        (Perms::READ, "apps-perm-r"),
        (Perms::UPDATE, "apps-perm-u"),
        (Perms::DELETE, "apps-perm-d"),
        (Perms::SEARCH, "apps-perm-s"),
    ]
    .iter()
    .filter(|(p, _)| parsed.perms.contains(*p))
    .map(|(_, id)| message(locale, id, &[]))
    .collect();
    let known = [
        "Patient",
        "Observation",
        "Appointment",
        "Practitioner",
        "Schedule",
        "Slot",
        "Consent",
    ];
    let resource = match parsed.resource.as_str() {
        "*" => message(locale, "apps-resource-all", &[]),
        r if known.contains(&r) => {
            message(locale, &format!("apps-resource-{}", r.to_lowercase()), &[])
        }
        r => message(locale, "apps-resource-other", &[("type", Arg::Str(r))]),
    };
    message(
        locale,
        "apps-scope",
        &[
            ("perms", Arg::Str(&perms.join(", "))),
            ("resource", Arg::Str(&resource)),
        ],
    )
}

/// The price in words of `locale` (text): "Free", "9,90 € per month".
pub fn price_words(pricing: Option<&Pricing>, locale: Locale, entry: &TenantEntry) -> String {
    match pricing {
        Some(Pricing::Free) => message(locale, "apps-free", &[]),
        Some(Pricing::Monthly(m)) => match super::price::format(m, locale, &entry.country) {
            Some(amount) => message(locale, "apps-monthly", &[("amount", Arg::Str(&amount))]),
            None => String::new(),
        },
        None => String::new(),
    }
}

/// The category's name in `locale` (text).
pub fn category_words(locale: Locale, category: Option<Category>) -> String {
    category
        .map(|c| message(locale, &format!("apps-category-{}", c.as_str()), &[]))
        .unwrap_or_default()
}

/// The scopes of an app as a list, each in plain words; those reaching patients' data
/// marked so.
pub fn scope_list(locale: Locale, scopes: &str) -> String {
    let items: String = scopes
        .split_ascii_whitespace()
        .map(|s| {
            let patient = s
                .parse::<Scope>()
                .is_ok_and(|sc| apps::reaches_patient_data(&sc));
            let mark = if patient {
                format!(
                    r#" <span class="tag">{}</span>"#,
                    t(locale, "apps-patient-data")
                )
            } else {
                String::new()
            };
            format!(
                r#"<li>{} <code>{}</code>{mark}</li>"#,
                escape(&scope_words(locale, s)),
                escape(s)
            )
        })
        .collect();
    format!(r#"<ul class="scopes">{items}</ul>"#)
}

/// The marketplace page, in `locale`, filtered by `category`.
pub fn page(
    entry: &TenantEntry,
    locale: Locale,
    list: &[CatalogApp],
    category: Option<Category>,
) -> String {
    let clinic = [("clinic", Arg::Str(&entry.name))];
    let title = escape(&message(locale, "apps-marketplace-title", &clinic));
    let filter = {
        let mut links = vec![(None, t(locale, "apps-category-all"))];
        links.extend(
            Category::ALL
                .into_iter()
                .map(|c| (Some(c), escape(&category_words(locale, Some(c))))),
        );
        let items: String = links
            .into_iter()
            .map(|(c, label)| {
                let href = match c {
                    Some(c) => format!("/marketplace?category={}", c.as_str()),
                    None => "/marketplace".to_owned(),
                };
                let current = if c == category {
                    r#" aria-current="page""#
                } else {
                    ""
                };
                format!(r#"<li><a href="{href}"{current}>{label}</a></li>"#)
            })
            .collect();
        format!(
            r#"<nav aria-label="{}"><ul class="categories">{items}</ul></nav>"#,
            t(locale, "apps-categories")
        )
    };
    let apps_html = if list.is_empty() {
        format!("<p>{}</p>", t(locale, "apps-none"))
    } else {
        list.iter()
            .map(|a| {
                let icon = a
                    .icon_url
                    .as_deref()
                    .map(|u| {
                        format!(
                            r#"<img src="{}" alt="" width="48" height="48" loading="lazy"> "#,
                            escape(u)
                        )
                    })
                    .unwrap_or_default();
                let developer = match &a.developer_url {
                    Some(u) => format!(
                        r#"<a href="{}" rel="noopener noreferrer">{}</a>"#,
                        escape(u),
                        escape(&a.developer)
                    ),
                    None => escape(&a.developer),
                };
                let by = message(locale, "apps-by", &[("developer", Arg::Str("\u{1}"))]);
                let by = escape(&by).replace('\u{1}', &developer);
                let events = if a.webhook_events.is_empty() {
                    String::new()
                } else {
                    format!("<p>{}</p>", t(locale, "apps-webhook-note"))
                };
                format!(
                    r#"<article class="app" id="app-{slug}">
<h2>{icon}{name}</h2>
<p>{by} · {category} · <strong>{price}</strong></p>
<p>{description}</p>
<h3>{asks}</h3>
{scopes}
{events}
</article>"#,
                    slug = escape(&a.slug),
                    name = escape(a.name(locale)),
                    category = escape(&category_words(locale, a.category)),
                    price = escape(&price_words(a.pricing.as_ref(), locale, entry)),
                    description = escape(a.description(locale)),
                    asks = t(locale, "apps-asks"),
                    scopes = scope_list(locale, &a.requested_scopes),
                )
            })
            .collect()
    };
    let body = format!(
        r#"<main>
<h1>{title}</h1>
<p>{intro}</p>
{filter}
{apps_html}
</main>"#,
        intro = t(locale, "apps-marketplace-intro"),
    );
    document(locale, &title, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> TenantEntry {
        serde_json::from_value(json!({
            "slug": "hopital-paris", "name": "Hôpital <Paris>", "country": "FR", "home_region": "eu-west",
            "default_locale": "fr", "currency": "EUR", "plan": "standard", "status": "active"
        }))
        .unwrap()
    }

    fn app() -> CatalogApp {
        CatalogApp::of(
            json!({
                "id": "5b0c1a2e-1111-4222-8333-444455556666", "slug": "glucose-sync",
                "names": {"en": "Glucose Sync", "fr": "Synchro glycémie"},
                "descriptions": {"en": "Sends <readings>."},
                "developer": "Acme", "developer_url": "https://acme.example",
                "category": "iot",
                "pricing": {"model": "monthly", "amount": "1234.50", "currency": "EUR"},
                "requested_scopes": "system/Observation.crs system/Slot.rs",
                "webhook_events": ["observation.created"]
            })
            .as_object()
            .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn names_fall_back_to_english_and_prices_follow_the_locale() {
        let fr = Locale::from_tag("fr").unwrap();
        let es = Locale::from_tag("es").unwrap();
        let a = app();
        assert_eq!(a.name(fr), "Synchro glycémie");
        assert_eq!(a.name(es), "Glucose Sync");
        assert_eq!(a.description(fr), "Sends <readings>.");
        let html = page(&entry(), fr, &[a], None);
        assert!(html.contains("1\u{202f}234,50\u{a0}€"), "{html}");
        assert!(html.contains("Sends &lt;readings&gt;."));
        assert!(html.contains(r#"<a href="/marketplace" aria-current="page">"#));
        assert!(html.contains("<code>system/Observation.crs</code>"));
        let ar = Locale::from_tag("ar").unwrap();
        assert!(page(&entry(), ar, &[], Some(Category::Iot)).contains(r#"dir="rtl""#));
    }

    #[test]
    fn only_a_known_category_filters() {
        assert_eq!(category_of(Some("category=iot")), Some(Category::Iot));
        assert_eq!(category_of(Some("category=games&x=1")), None);
        assert_eq!(category_of(None), None);
    }

    #[test]
    fn scopes_read_as_words_in_every_locale() {
        for locale in Locale::all() {
            let w = scope_words(locale, "system/Patient.rs");
            assert!(!w.contains("apps-"), "{}: {w}", locale.tag());
            assert!(!scope_words(locale, "system/Invoice.c").contains("apps-"));
            assert!(!scope_words(locale, "system/*.r").contains("apps-"));
        }
        let en = Locale::from_tag("en").unwrap();
        assert_eq!(
            scope_words(en, "system/Patient.rs").replace(['\u{2068}', '\u{2069}'], ""),
            "read, search: patients' records"
        );
    }
}
