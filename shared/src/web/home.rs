//! The clinic's home page: public, cached at the edge per (clinic, path, locale). A fresh
//! hit costs no region call; a miss costs one batch to the clinic's home region (its
//! practitioners), the directory look-up aside.

use serde_json::{Value, json};

use super::{
    booking::{PRACTITIONERS_SHOWN, PractitionerView, names},
    layout::{document, escape, t},
};
use crate::{
    ctx::Ctx,
    dataplane::{
        client::DataError,
        wire::{BatchRequest, Call},
    },
    host::Host,
    i18n::{Arg, locale::Locale, message},
    tenant::TenantEntry,
};

/// What the home page shows of the clinic's data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HomeData {
    /// The active practitioners, by name.
    pub practitioners: Vec<PractitionerView>,
}

/// Reads the page's data: one batch, as nobody (the page is the same for everyone and
/// reads no patient's data).
pub async fn load<H: Host>(ctx: &Ctx<'_, H>, entry: &TenantEntry) -> Result<HomeData, DataError> {
    let batch = BatchRequest {
        statements: vec![Call {
            name: names::PRACTITIONERS.into(),
            params: vec![json!(PRACTITIONERS_SHOWN)],
        }],
        want_directory: false,
        idempotency: None,
        min_lsn: None,
    };
    let response = ctx
        .region
        .batch(
            &entry.home_region,
            &entry.slug,
            Some("web/anonymous"),
            &batch,
        )
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
    Ok(HomeData { practitioners })
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
</main>"#,
        greeting = escape(&message(locale, "home-greeting", &clinic)),
        intro = t(locale, "home-intro"),
        book_label = t(locale, "home-book"),
        heading = t(locale, "home-practitioners"),
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
        }
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
