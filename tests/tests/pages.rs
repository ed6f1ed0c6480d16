//! The clinic home page through both edge runtimes: locale negotiation, headers, edge cache.

use telemed_e2e::{EDGES, Edge, headers, new_clinic};
use telemed_shared::{
    i18n::{Arg, locale::Locale, message},
    web::escape,
};

fn locale(tag: &str) -> Locale {
    Locale::from_tag(tag).unwrap()
}

fn greeting(tag: &str, clinic: &str) -> String {
    escape(&message(
        locale(tag),
        "home-greeting",
        &[("clinic", Arg::Str(clinic))],
    ))
}

#[test]
fn arabic_page_is_rtl_with_negotiation_headers_on_both_edges() {
    for edge in EDGES {
        let r = edge.get(
            &edge.host_for("hopital-paris"),
            "/",
            &[("accept-language", "ar-MA,ar;q=0.9")],
        );
        assert_eq!(r.status(), 200, "{edge:?}");
        let h = headers(&r);
        assert_eq!(h["content-language"], "ar", "{edge:?}");
        assert!(
            h["vary"].to_ascii_lowercase().contains("accept-language"),
            "{edge:?}: {}",
            h["vary"]
        );
        assert!(
            h["cache-control"].starts_with("public"),
            "{edge:?}: {}",
            h["cache-control"]
        );
        assert!(h.contains_key("server-timing"), "{edge:?}");
        let body = r.text().unwrap();
        assert!(body.contains(r#"<html lang="ar" dir="rtl">"#), "{edge:?}");
        assert!(
            body.contains(&greeting("ar", "Hôpital Paris Santé")),
            "{edge:?}: Arabic greeting missing"
        );
        assert!(
            body.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
            "{edge:?}: no Arabic script"
        );
    }
}

#[test]
fn english_for_en_gb() {
    for edge in EDGES {
        let r = edge.get(
            &edge.host_for("hopital-paris"),
            "/",
            &[("accept-language", "en-GB,en;q=0.8")],
        );
        assert_eq!(r.status(), 200);
        assert_eq!(headers(&r)["content-language"], "en");
        let body = r.text().unwrap();
        assert!(body.contains(r#"<html lang="en" dir="ltr">"#), "{edge:?}");
        assert!(
            body.contains(&greeting("en", "Hôpital Paris Santé")),
            "{edge:?}"
        );
    }
}

#[test]
fn workers_cache_hits_for_any_spelling_of_the_same_locale() {
    let slug = new_clinic("cache", "Clinique du Cache", "FR");
    let edge = Edge::Workers;
    let host = edge.host_for(&slug);
    let first = edge.get(&host, "/", &[("accept-language", "ar-MA,ar;q=0.9")]);
    assert_eq!(first.status(), 200);
    assert_eq!(headers(&first)["x-cache"], "MISS");
    let first_body = first.text().unwrap();
    // Cache fills run after the response (waitUntil): give it a moment.
    let mut hit = None;
    for _ in 0..50 {
        let again = edge.get(&host, "/", &[("accept-language", "ar-MA,ar;q=0.9")]);
        if headers(&again)["x-cache"] == "HIT" {
            hit = Some(again);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let hit = hit.expect("the repeated request never hit the edge cache");
    assert_eq!(headers(&hit)["content-language"], "ar");
    assert_eq!(
        hit.text().unwrap(),
        first_body,
        "a hit serves the same page"
    );
    let plain = edge.get(&host, "/", &[("accept-language", "ar")]);
    assert_eq!(
        headers(&plain)["x-cache"],
        "HIT",
        "`ar` shares the entry of `ar-MA,ar;q=0.9`"
    );
    let english = edge.get(&host, "/", &[("accept-language", "en")]);
    assert_eq!(
        headers(&english)["x-cache"],
        "MISS",
        "another locale is another entry"
    );
    assert_eq!(headers(&english)["content-language"], "en");
}

#[test]
fn unknown_clinic_is_a_localized_404() {
    for edge in EDGES {
        let r = edge.get(
            &edge.host_for("no-such-clinic-here"),
            "/",
            &[("accept-language", "es")],
        );
        assert_eq!(r.status(), 404, "{edge:?}");
        assert_eq!(headers(&r)["content-language"], "es");
        let body = r.text().unwrap();
        assert!(
            body.contains(&escape(&message(locale("es"), "not-found-title", &[]))),
            "{edge:?}"
        );
    }
}

#[test]
fn x_tenant_slug_on_the_apex_names_the_clinic() {
    for edge in EDGES {
        let apex = format!("localhost:{}", edge.base().rsplit(':').next().unwrap());
        let r = edge.get(
            &apex,
            "/",
            &[
                ("x-tenant-slug", "clinique-dakar"),
                ("accept-language", "fr"),
            ],
        );
        assert_eq!(r.status(), 200, "{edge:?}");
        assert!(
            r.text()
                .unwrap()
                .contains(&greeting("fr", "Clinique de Dakar")),
            "{edge:?}"
        );
        let r = edge.get(&apex, "/", &[]);
        assert_eq!(r.status(), 404, "{edge:?}: the apex alone is no clinic");
    }
}

#[test]
fn query_locale_sets_a_cookie_and_is_private() {
    for edge in EDGES {
        let host = edge.host_for("hopital-paris");
        let r = edge.get(&host, "/?locale=es", &[("accept-language", "ar")]);
        assert_eq!(r.status(), 200);
        let h = headers(&r);
        assert_eq!(h["content-language"], "es", "{edge:?}");
        assert!(
            h["set-cookie"].starts_with("locale=es;"),
            "{edge:?}: {:?}",
            h.get("set-cookie")
        );
        assert!(h["cache-control"].starts_with("private"), "{edge:?}");
        let r = edge.get(
            &host,
            "/",
            &[
                ("cookie", "theme=dark; locale=ar"),
                ("accept-language", "en"),
            ],
        );
        let h = headers(&r);
        assert_eq!(
            h["content-language"], "ar",
            "{edge:?}: the cookie beats Accept-Language"
        );
        assert!(h["cache-control"].starts_with("private"), "{edge:?}");
        assert!(!h.contains_key("set-cookie"));
        // An unsupported ?locale= is ignored, not an error.
        let r = edge.get(&host, "/?locale=xx", &[("accept-language", "en")]);
        assert_eq!(headers(&r)["content-language"], "en", "{edge:?}");
    }
}

#[test]
fn clinic_names_are_html_escaped() {
    let name = r#"<script>alert(1)</script> & "Soins""#;
    let slug = new_clinic("esc", name, "SN");
    for edge in EDGES {
        let r = edge.get(&edge.host_for(&slug), "/", &[]);
        assert_eq!(r.status(), 200);
        let body = r.text().unwrap();
        assert!(!body.contains("<script>"), "{edge:?}");
        assert!(
            body.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Soins&quot;"),
            "{edge:?}"
        );
        // No Accept-Language: the clinic's country (Senegal) decides.
        assert!(body.contains(r#"<html lang="fr" dir="ltr">"#), "{edge:?}");
    }
}

#[test]
fn both_edges_answer_alike() {
    for (host_slug, path, al) in [
        ("hopital-paris", "/", "ar"),
        ("no-such-clinic-here", "/", "en"),
        ("hopital-paris", "/nope", "fr"),
    ] {
        let answers: Vec<_> = EDGES
            .iter()
            .map(|e| {
                let r = e.get(&e.host_for(host_slug), path, &[("accept-language", al)]);
                let mut h = headers(&r);
                for platform in [
                    "x-cache",
                    "age",
                    "server-timing",
                    "date",
                    "content-length",
                    "connection",
                    "transfer-encoding",
                    "cf-ray",
                ] {
                    h.remove(platform);
                }
                h.retain(|k, _| !k.starts_with("cf-"));
                (r.status(), h, r.text().unwrap())
            })
            .collect();
        assert_eq!(answers[0].0, answers[1].0, "{host_slug}{path}: status");
        assert_eq!(answers[0].1, answers[1].1, "{host_slug}{path}: headers");
        assert_eq!(answers[0].2, answers[1].2, "{host_slug}{path}: body");
    }
}

/// Requests `path` on the Workers edge until the edge cache serves it (cache fills run
/// after the response), and returns that hit.
fn until_hit(host: &str, headers: &[(&str, &str)]) -> reqwest::blocking::Response {
    for _ in 0..50 {
        let r = Edge::Workers.get(host, "/", headers);
        if telemed_e2e::headers(&r)["x-cache"] == "HIT" {
            return r;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{host} {headers:?} never hit the edge cache");
}

/// `*` stands for the clinic's default language, on both edges, whether the page comes
/// from the edge cache or not — even when the platform fallback's (`fr`) page is cached.
#[test]
fn a_wildcard_gets_the_clinics_default_on_both_edges_cached_or_not() {
    for (country, default) in [("MA", "ar"), ("US", "en")] {
        let slug = new_clinic("wild", "Clinique Joker", country);
        // The fallback's page, in the Workers cache first: what `*` used to be served.
        let fr_host = Edge::Workers.host_for(&slug);
        until_hit(&fr_host, &[("accept-language", "fr")]);
        for header in ["*", "*;q=0.5", "de, *;q=0.1"] {
            let mut seen = Vec::new();
            for edge in EDGES {
                let r = edge.get(&edge.host_for(&slug), "/", &[("accept-language", header)]);
                assert_eq!(r.status(), 200, "{edge:?} {header:?}");
                seen.push((
                    edge,
                    headers(&r)["content-language"].clone(),
                    r.text().unwrap(),
                ));
            }
            let cached = until_hit(&fr_host, &[("accept-language", header)]);
            seen.push((
                Edge::Workers,
                headers(&cached)["content-language"].clone(),
                cached.text().unwrap(),
            ));
            for (edge, language, body) in &seen {
                assert_eq!(language, default, "{edge:?} {country} {header:?}");
                assert!(
                    body.contains(&format!(r#"<html lang="{default}""#)),
                    "{edge:?} {country} {header:?}"
                );
            }
            assert_eq!(
                seen[0].2, seen[1].2,
                "{country} {header:?}: the edges' pages differ"
            );
            assert_eq!(
                seen[0].2, seen[2].2,
                "{country} {header:?}: the cached page differs"
            );
        }
    }
}
