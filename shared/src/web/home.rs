//! The clinic's home page: public, cached at the edge per (clinic, path, locale).

use crate::{
    i18n::{Arg, locale::Locale, message},
    tenant::TenantEntry,
};

use super::layout::{document, escape, t};

/// The clinic's home page, in `locale`.
pub fn home(entry: &TenantEntry, locale: Locale) -> String {
    let clinic = [("clinic", Arg::Str(&entry.name))];
    let title = escape(&message(locale, "home-title", &clinic));
    let body = format!(
        r#"<main>
<h1>{greeting}</h1>
<p>{intro}</p>
<p><a class="book" href="/appointments/new">{book}</a></p>
</main>"#,
        greeting = escape(&message(locale, "home-greeting", &clinic)),
        intro = t(locale, "home-intro"),
        book = t(locale, "home-book"),
    );
    document(locale, &title, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str) -> TenantEntry {
        serde_json::from_value(serde_json::json!({
            "slug": "hopital-paris", "name": name, "country": "FR", "home_region": "eu-west",
            "default_locale": "fr", "currency": "EUR", "plan": "standard", "status": "active"
        }))
        .unwrap()
    }

    #[test]
    fn tenant_text_is_escaped() {
        let html = home(
            &entry(r#"<script>alert("x")</script> & Co'"#),
            Locale::from_tag("en").unwrap(),
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co&#39;"));
    }

    #[test]
    fn arabic_is_rtl_and_every_locale_is_offered() {
        let html = home(&entry("Hôpital Paris"), Locale::from_tag("ar").unwrap());
        assert!(html.contains(r#"<html lang="ar" dir="rtl">"#));
        for l in Locale::all() {
            assert!(
                html.contains(&format!(r#"hreflang="{}" lang="{}""#, l.tag(), l.tag())),
                "{}",
                l.tag()
            );
        }
        assert!(html.contains("aria-current"));
        let fr = home(&entry("Hôpital Paris"), Locale::from_tag("fr").unwrap());
        assert!(fr.contains(r#"<html lang="fr" dir="ltr">"#));
        assert!(fr.contains("Hôpital Paris"));
    }
}
