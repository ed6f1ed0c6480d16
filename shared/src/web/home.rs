//! The clinic's home page: public, cached at the edge per (clinic, path, locale). A fresh
//! hit costs no region call; a miss costs one batch to the clinic's home region (its
//! practitioners and its active prices, [`crate::billing`]), the directory look-up aside.

use serde_json::{Value, json};

use super::{
    booking::{PRACTITIONERS_SHOWN, PractitionerView, names},
    layout::{document, escape, t},
};
use crate::{
    billing::{self, Price},
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

/// What the home page shows of the clinic's data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HomeData {
    /// The active practitioners, by name.
    pub practitioners: Vec<PractitionerView>,
    /// The active price of each consultation type, by name.
    pub prices: Vec<Price>,
}

/// Reads the page's data: one batch, as nobody (the page is the same for everyone and
/// reads no patient's data). To the clinic's home region when the edge knows it
/// (`Some(entry)`); else to `nearest` with `want_directory`, which answers the clinic's entry
/// with the data (a cold edge: one call, not a directory call and a batch).
pub async fn load<H: Host>(
    ctx: &Ctx<'_, H>,
    slug: &TenantSlug,
    known: Option<&TenantEntry>,
    nearest: &RegionId,
) -> Result<(HomeData, Option<TenantEntry>), DataError> {
    let batch = BatchRequest {
        statements: vec![
            Call {
                name: names::PRACTITIONERS.into(),
                params: vec![json!(PRACTITIONERS_SHOWN)],
            },
            Call {
                name: billing::names::PRICES.into(),
                params: vec![json!("active")],
            },
        ],
        want_directory: known.is_none(),
        idempotency: None,
        min_lsn: None,
    };
    let region = known.map_or(nearest, |e| &e.home_region);
    let response = ctx
        .region
        .batch(region, slug, Some("web/anonymous"), &batch)
        .await?;
    let practitioners = response
        .results
        .first()
        .map(|r| {
            r.rows
                .iter()
                .filter_map(|row| {
                    Some(PractitionerView::of(
                        row.get("id")?.as_str()?,
                        row.get("resource").unwrap_or(&Value::Null),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    // A price this edge cannot read (a currency it does not know) is left out, the page
    // still renders.
    let prices = response
        .results
        .get(1)
        .map(|r| {
            r.rows
                .iter()
                .filter_map(|row| billing::price_from_row(row).ok())
                .collect()
        })
        .unwrap_or_default();
    Ok((
        HomeData {
            practitioners,
            prices,
        },
        response.directory,
    ))
}

/// The price list: each consultation type and its price, in the locale's and the
/// clinic's country's conventions (CLDR, [`crate::money`]).
fn price_list(entry: &TenantEntry, locale: Locale, prices: &[Price]) -> String {
    let rows: String = prices
        .iter()
        .filter_map(|p| {
            let amount = super::price::format(&p.amount, locale, &entry.country)?;
            Some(format!(
                r#"<tr><th scope="row">{}</th><td class="amount">{}</td></tr>"#,
                escape(&p.display),
                escape(&amount)
            ))
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    format!(
        r#"<h2 id="prices">{heading}</h2>
<table><thead><tr><th scope="col">{kind}</th><th scope="col">{price}</th></tr></thead><tbody>{rows}</tbody></table>"#,
        heading = t(locale, "home-prices"),
        kind = t(locale, "home-price-consultation"),
        price = t(locale, "home-price-amount"),
    )
}

/// The clinic's home page, in `locale`.
pub fn home(entry: &TenantEntry, locale: Locale, data: &HomeData) -> String {
    let clinic = [("clinic", Arg::Str(&entry.name))];
    let title = escape(&message(locale, "home-title", &clinic));
    // Booking starts from a practitioner: the only one's page, else the list below.
    let book = match data.practitioners.as_slice() {
        [only] => format!("/practitioners/{}", escape(&only.id)),
        _ => "#practitioners".to_owned(),
    };
    let list = if data.practitioners.is_empty() {
        format!("<p>{}</p>", t(locale, "home-no-practitioners"))
    } else {
        let items: String = data
            .practitioners
            .iter()
            .map(|p| {
                let specialties = if p.specialties.is_empty() {
                    String::new()
                } else {
                    format!("<br><span>{}</span>", escape(&p.specialties.join(", ")))
                };
                format!(
                    r#"<li><a href="/practitioners/{id}">{name}</a>{specialties}</li>"#,
                    id = escape(&p.id),
                    name = escape(&p.name),
                )
            })
            .collect();
        format!(r#"<ul class="practitioners">{items}</ul>"#)
    };
    let body = format!(
        r#"<main>
<h1>{greeting}</h1>
<p>{intro}</p>
<p><a class="book" href="{book}">{book_label}</a></p>
<h2 id="practitioners">{heading}</h2>
{list}
{prices}
</main>"#,
        greeting = escape(&message(locale, "home-greeting", &clinic)),
        intro = t(locale, "home-intro"),
        book_label = t(locale, "home-book"),
        heading = t(locale, "home-practitioners"),
        prices = price_list(entry, locale, &data.prices),
    );
    document(locale, &title, &body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entry(name: &str) -> TenantEntry {
        serde_json::from_value(serde_json::json!({
            "slug": "hopital-paris", "name": name, "country": "FR", "home_region": "eu-west",
            "default_locale": "fr", "currency": "EUR", "plan": "standard", "status": "active"
        }))
        .unwrap()
    }

    fn data() -> HomeData {
        HomeData {
            practitioners: vec![
                PractitionerView::of(
                    "5b0c1a2e-1111-4222-8333-444455556666",
                    &json!({"name": [{"family": "Durand", "given": ["Claire"], "prefix": ["Dr"]}],
                            "qualification": [{"code": {"text": "Médecine générale"}}]}),
                ),
                PractitionerView::of(
                    "5b0c1a2e-1111-4222-8333-444455556667",
                    &json!({"name": [{"family": "<b>Benali</b>"}]}),
                ),
            ],
            prices: vec![Price {
                id: "p1".into(),
                code: "general".into(),
                display: "Consultation générale".into(),
                amount: crate::money::Money::new(
                    rust_decimal::Decimal::new(123_450, 2),
                    "EUR".parse().unwrap(),
                )
                .unwrap(),
                status: "active".into(),
            }],
        }
    }

    #[test]
    fn prices_are_formatted_in_the_pages_locale() {
        let fr = home(&entry("Clinique"), Locale::from_tag("fr").unwrap(), &data());
        assert!(
            fr.contains(r#"<th scope="row">Consultation générale</th>"#),
            "{fr}"
        );
        assert!(fr.contains("1\u{202f}234,50\u{a0}€"), "{fr}");
        let en = home(&entry("Clinique"), Locale::from_tag("en").unwrap(), &data());
        // English in a French clinic: en-FR's conventions (CLDR), the same amount.
        assert!(en.contains("234,50") && en.contains('€'), "{en}");
        let none = home(
            &entry("Clinique"),
            Locale::from_tag("en").unwrap(),
            &HomeData::default(),
        );
        assert!(!none.contains("<table>"));
    }

    #[test]
    fn practitioners_are_listed_with_their_specialties_and_linked() {
        let html = home(&entry("Clinique"), Locale::from_tag("fr").unwrap(), &data());
        assert!(html.contains(
            r#"<a href="/practitioners/5b0c1a2e-1111-4222-8333-444455556666">Dr Claire Durand</a>"#
        ));
        assert!(html.contains("Médecine générale"));
        assert!(html.contains("&lt;b&gt;Benali&lt;/b&gt;"));
        assert!(html.contains(r##"href="#practitioners""##));
        let one = HomeData {
            practitioners: data().practitioners[..1].to_vec(),
            prices: vec![],
        };
        let html = home(&entry("Clinique"), Locale::from_tag("fr").unwrap(), &one);
        assert!(html.contains(
            r#"class="book" href="/practitioners/5b0c1a2e-1111-4222-8333-444455556666""#
        ));
        let none = home(
            &entry("Clinique"),
            Locale::from_tag("en").unwrap(),
            &HomeData::default(),
        );
        assert!(none.contains("No practitioner"), "{none}");
    }

    #[test]
    fn tenant_text_is_escaped() {
        let html = home(
            &entry(r#"<script>alert("x")</script> & Co'"#),
            Locale::from_tag("en").unwrap(),
            &HomeData::default(),
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co&#39;"));
    }

    #[test]
    fn arabic_is_rtl_and_every_locale_is_offered() {
        let html = home(
            &entry("Hôpital Paris"),
            Locale::from_tag("ar").unwrap(),
            &data(),
        );
        assert!(html.contains(r#"<html lang="ar" dir="rtl">"#));
        for l in Locale::all() {
            assert!(
                html.contains(&format!(r#"hreflang="{}" lang="{}""#, l.tag(), l.tag())),
                "{}",
                l.tag()
            );
        }
        assert!(html.contains("aria-current"));
        let fr = home(
            &entry("Hôpital Paris"),
            Locale::from_tag("fr").unwrap(),
            &data(),
        );
        assert!(fr.contains(r#"<html lang="fr" dir="ltr">"#));
        assert!(fr.contains("Hôpital Paris"));
    }
}
