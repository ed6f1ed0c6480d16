//! The marketplace on the real stack, on both edges: an app registered and approved by the
//! operators' CLI ([`register_app`]) is listed on a clinic's `/marketplace` (localized, its
//! price in the page's format), installed and uninstalled through the admin's page
//! ([`install_app`], [`uninstall_app`]) in clinics homed in two regions (the catalog is the
//! control plane's, replicated; installations stay in each clinic's home region), and one
//! clinic's installation is never another's.

use serde_json::json;
use telemed_e2e::{
    EDGES, Edge, install_app, new_clinic, now_secs, psql, register_app, schema_of, stack,
    uninstall_app,
};

fn app_spec(slug: &str) -> serde_json::Value {
    json!({
        "slug": slug,
        "names": {"en": "Glucose Sync", "fr": "Synchro glycémie"},
        "descriptions": {"en": "Sends glucose readings to the clinic."},
        "developer": "Acme Health",
        "category": "iot",
        "pricing": {"model": "monthly", "amount": "9.90", "currency": "EUR"},
        "requested_scopes": "system/Observation.crs system/Patient.read",
        "client": {"auth": "client_secret_basic"}
    })
}

/// The home region's database of a clinic of `country`.
fn database_of(country: &str) -> String {
    let home = telemed_shared::geo::RegionMap::embedded()
        .home_for_country(&country.parse().unwrap())
        .id
        .to_string();
    stack()
        .regions
        .iter()
        .find(|r| r.id == home)
        .unwrap()
        .database_url
        .clone()
}

fn installation(slug: &str, country: &str, app: &str) -> String {
    psql(
        &database_of(country),
        &format!(
            "SELECT status || '|' || granted_scopes FROM {}.app_installations WHERE app = '{app}'",
            schema_of(slug)
        ),
    )
}

#[test]
fn an_app_is_listed_installed_and_uninstalled_on_both_edges() {
    let added = register_app(app_spec(&format!("e2e-glucose-{}", now_secs())));
    let app = added["app_id"].as_str().unwrap().to_owned();
    assert!(added["client_secret"].as_str().is_some());
    for edge in EDGES {
        let fr = new_clinic("mkt-fr", "Clinique Marché", "FR");
        let us = new_clinic("mkt-us", "Market Clinic", "US");
        let r = edge.get(
            &edge.host_for(&fr),
            "/marketplace",
            &[("accept-language", "fr")],
        );
        assert_eq!(r.status().as_u16(), 200, "{edge:?}");
        let html = r.text().unwrap().replace(['\u{2068}', '\u{2069}'], "");
        assert!(html.contains("Synchro glycémie"), "{edge:?}: {html}");
        assert!(html.contains("9,90\u{a0}€ par mois"), "{edge:?}: {html}");

        assert_eq!(
            install_app(edge, &fr, "FR", &app, &[]).0,
            422,
            "{edge:?}: empty grant"
        );
        let (status, to) = install_app(edge, &fr, "FR", &app, &["system/Observation.crs"]);
        assert_eq!(status, 303, "{edge:?}");
        assert!(to.contains("done=installed"), "{edge:?}: {to}");
        assert_eq!(
            installation(&fr, "FR", &app),
            "installed|system/Observation.crs"
        );
        // Another region's clinic installs it too; the first is unchanged.
        let (status, to) = install_app(edge, &us, "US", &app, &["system/Patient.rs"]);
        assert!(
            status == 303 && to.contains("done=installed"),
            "{edge:?}: {status} {to}"
        );
        assert_eq!(installation(&us, "US", &app), "installed|system/Patient.rs");
        assert_eq!(
            installation(&fr, "FR", &app),
            "installed|system/Observation.crs"
        );

        // The app, with the credentials the CLI printed, gets a token for what the clinic
        // granted and reads the clinic's observations with it.
        let client = telemed_e2e::apps::basic(
            added["client_id"].as_str().unwrap(),
            added["client_secret"].as_str().unwrap(),
        );
        let token_for = |scope: &str| {
            telemed_e2e::apps::post_form(
                edge,
                &fr,
                "/oauth/token",
                &[("grant_type", "client_credentials"), ("scope", scope)],
                Some(&client),
            )
        };
        let (status, body, _) = token_for("system/Observation.rs");
        assert_eq!(status, 200, "{edge:?}: {body}");
        let bearer = format!("Bearer {}", body["access_token"].as_str().unwrap());
        let read = |bearer: &str| {
            edge.get(
                &edge.host_for(&fr),
                "/v1/observations",
                &[("authorization", bearer)],
            )
            .status()
            .as_u16()
        };
        assert_eq!(read(&bearer), 200, "{edge:?}");
        assert_eq!(
            token_for("system/Patient.r").1["error"],
            "invalid_scope",
            "{edge:?}: granted in the US clinic only"
        );

        let (status, to) = uninstall_app(edge, &fr, "FR", &app);
        assert!(
            status == 303 && to.contains("done=uninstalled"),
            "{edge:?}: {to}"
        );
        // Uninstalled through the page: its token is refused on the very next call.
        assert_eq!(read(&bearer), 401, "{edge:?}: the uninstalled app's token");
        assert_eq!(
            token_for("system/Observation.rs").1["error"],
            "unauthorized_client"
        );
        assert!(installation(&fr, "FR", &app).starts_with("uninstalled|"));
        assert_eq!(installation(&us, "US", &app), "installed|system/Patient.rs");
        let (_, to) = uninstall_app(edge, &fr, "FR", &app);
        assert!(to.contains("error=not-installed"), "{edge:?}: {to}");
    }
}

#[test]
fn a_scope_the_app_did_not_request_is_refused() {
    let added = register_app(app_spec(&format!("e2e-narrow-{}", now_secs())));
    let app = added["app_id"].as_str().unwrap();
    let edge = Edge::Workers;
    let slug = new_clinic("mkt-sub", "Subset Clinic", "FR");
    let (status, to) = install_app(edge, &slug, "FR", app, &["system/Appointment.rs"]);
    assert!(
        status == 303 && to.contains("error=not-installable"),
        "{status} {to}"
    );
    assert_eq!(installation(&slug, "FR", app), "");
}
