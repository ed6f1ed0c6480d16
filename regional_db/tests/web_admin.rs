//! The clinic admin's pages end to end: the edge's core (the code both adapters run,
//! [`common::edge::NativeEdge`]) against a real `regional-db` and Postgres (this binary's
//! own cluster). A session cookie is minted with the edge's session keys — the same
//! verification a sign-in's cookie goes through — then: the dashboard, adding a
//! practitioner, weekly availability turned into slots (counted in the database), an
//! invalid availability (422, nothing written), another role (403), no session (to the
//! sign-in form), a forged post (403), unknown ids (404); prices in euros and in CFA francs
//! (no decimals), changed and retired.

mod common;

use std::sync::OnceLock;

use axum::http::Request;
use common::{
    Server,
    one_region::{EU, OneRegion},
};
use telemed_shared::{accounts::Role, auth::SigningKey};

fn stack() -> &'static OneRegion {
    static STACK: OnceLock<OneRegion> = OnceLock::new();
    STACK.get_or_init(|| OneRegion::start("regional-db-pg-web-admin"))
}

fn signer() -> SigningKey {
    stack().signer()
}

async fn serve() -> Server {
    stack().serve().await
}

async fn create_clinic(slug: &str) {
    create_clinic_in(slug, None).await;
}

/// A French clinic, billing in `currency` instead of the euro when given.
async fn create_clinic_in(slug: &str, currency: Option<&str>) {
    common::create_clinic_in_eu(&stack().url(), slug, "FR", currency).await;
}

/// SQL in a clinic's schema, its output trimmed.
fn in_clinic(slug: &str, sql: &str) -> String {
    let schema = format!("tenant_{}", slug.replace('-', "_"));
    stack()
        .cluster
        .psql(EU, &format!("SET search_path TO {schema}; {sql}"))
        .unwrap()
        .trim()
        .to_owned()
}

fn count(slug: &str, table: &str) -> i64 {
    in_clinic(slug, &format!("SELECT count(*) FROM {table}"))
        .parse()
        .unwrap()
}

use common::browser::{Browser, idem, location, session, text};

fn week(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut v = vec![
        ("mon-from-1", "09:00"),
        ("mon-to-1", "12:00"),
        ("wed-from-1", "09:00"),
        ("wed-to-1", "12:00"),
        ("wed-from-2", "14:00"),
        ("wed-to-2", "15:00"),
        ("slot", "20"),
        ("weeks", "2"),
    ];
    v.extend_from_slice(extra);
    v
}

#[tokio::test]
async fn an_admin_adds_a_practitioner_and_opens_their_slots() {
    stack();
    let slug = "web-admin-fr";
    create_clinic(slug).await;
    let s = serve().await;
    let edge = common::edge::NativeEdge::new(&s.base, &signer(), &SigningKey::from_seed([7; 32]));
    let (cookie, csrf) = session(slug, Role::Admin);
    let admin = Browser::new(&edge, slug, Some(cookie));

    // The dashboard: private, with its counts.
    let r = admin.get("/admin").await;
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = text(&r);
    assert!(html.contains("<h1>Administration</h1>"), "{html}");
    assert!(html.contains(r#"href="/admin/practitioners""#));

    // The list, empty; the add form.
    let r = admin.get("/admin/practitioners").await;
    assert_eq!(r.status(), 200);
    let html = text(&r);
    assert!(html.contains("No practitioners yet"), "{html}");
    assert!(html.contains(r#"<label for="f-family">Family name</label>"#));

    // A post without the family name: 422, the message next to the field, nothing written.
    let r = admin
        .post(
            "/admin/practitioners",
            &[("csrf", &csrf), ("idem", &idem(&html)), ("given", "Claire")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = text(&r);
    assert!(
        html.contains(r#"aria-describedby="f-family-error""#),
        "{html}"
    );
    assert!(html.contains("Enter the family name."));
    assert!(html.contains(r#"value="Claire""#));
    assert_eq!(count(slug, "practitioners"), 0);

    // Added: through the API's validation and create statement, then to their availability.
    let r = admin
        .post(
            "/admin/practitioners",
            &[
                ("csrf", &csrf),
                ("idem", &idem(&html)),
                ("given", "Claire"),
                ("family", "Durand <MD>"),
                ("qualification", "Médecin généraliste"),
                ("active", "true"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", text(&r));
    let to = location(&r);
    let id = to
        .strip_prefix("/admin/practitioners/")
        .and_then(|rest| rest.strip_suffix("/availability?added=1"))
        .unwrap_or_else(|| panic!("{to}"))
        .to_owned();
    assert_eq!(
        in_clinic(
            slug,
            &format!(
                "SELECT family || '|' || given || '|' || active || '|' || (resource->'qualification'->0->'code'->>'text') FROM practitioners WHERE id = '{id}'"
            )
        ),
        "Durand <MD>|Claire|true|Médecin généraliste"
    );

    let r = admin.get(&to).await;
    assert_eq!(r.status(), 200, "{}", text(&r));
    let html = text(&r);
    assert!(html.contains("Claire Durand &lt;MD&gt;"), "escaped: {html}");
    assert!(html.contains("The practitioner has been added"));
    assert!(html.contains("UTC"));
    assert!(html.contains("No free slot ahead."));
    let path = format!("/admin/practitioners/{id}/availability");

    // Invalid ranges: 422, each message next to its field, nothing written.
    let form = idem(&html);
    let mut bad = week(&[]);
    bad.retain(|(k, _)| !k.starts_with("wed"));
    bad.extend([
        ("tue-from-1", "12:00"),
        ("tue-to-1", "09:00"),
        ("thu-from-1", "09:00"),
        ("thu-to-1", "12:00"),
        ("thu-from-2", "11:00"),
        ("thu-to-2", "13:00"),
        ("fri-from-1", "09:00"),
        ("fri-to-1", "09:50"),
    ]);
    let mut fields = vec![("csrf", csrf.as_str()), ("idem", form.as_str())];
    fields.extend(bad.iter().copied());
    let r = admin.post(&path, &fields).await;
    assert_eq!(r.status(), 422);
    let html = text(&r);
    for (field, message) in [
        ("tue-to-1", "The end must be after the start."),
        (
            "thu-from-2",
            "This range overlaps the first range of the same day.",
        ),
        ("fri-to-1", "whole number of"),
    ] {
        assert!(
            html.contains(&format!(r#"aria-describedby="f-{field}-error""#)),
            "{field}: {html}"
        );
        assert!(html.contains(message), "{message}");
    }
    assert!(html.contains(r#"value="09:50""#), "what was typed stays");
    assert_eq!(count(slug, "schedules"), 0);
    assert_eq!(count(slug, "slots"), 0);

    // Valid: Mondays 09–12 and Wednesdays 09–12 and 14–15, 20 minutes, 2 weeks.
    let mut fields = vec![("csrf", csrf.as_str()), ("idem", form.as_str())];
    let good = week(&[]);
    fields.extend(good.iter().copied());
    let r = admin.post(&path, &fields).await;
    assert_eq!(r.status(), 303, "{}", text(&r));
    let to = location(&r);
    let expected = 2 * (9 + 9 + 3);
    assert!(to.contains(&format!("generated={expected}&first=")), "{to}");
    assert_eq!(count(slug, "schedules"), 1);
    assert_eq!(count(slug, "slots"), expected);
    assert_eq!(
        in_clinic(
            slug,
            &format!(
                "SELECT count(*) FROM slots s JOIN schedules sc ON sc.id = s.schedule \
                 WHERE sc.practitioner = '{id}' AND s.status = 'free' \
                   AND s.ends_at - s.starts_at = interval '20 minutes' \
                   AND extract(isodow FROM s.starts_at AT TIME ZONE 'UTC') IN (1, 3) \
                   AND (s.starts_at AT TIME ZONE 'UTC')::time >= '09:00' \
                   AND (s.starts_at AT TIME ZONE 'UTC')::time < '15:00' \
                   AND s.starts_at > now()"
            )
        ),
        expected.to_string()
    );
    let r = admin.get(&to).await;
    assert_eq!(r.status(), 200);
    let html = text(&r);
    assert!(
        html.contains(&format!("{expected}\u{2069} slots created")),
        "{html}"
    );
    assert!(html.contains(" UTC</time>"));
    assert!(html.contains(&format!("{expected}\u{2069} free slots ahead")));

    // The same week again (a new form): nothing doubled.
    let mut fields = vec![("csrf", csrf.as_str())];
    let again = idem(&html);
    fields.push(("idem", again.as_str()));
    fields.extend(good.iter().copied());
    let r = admin.post(&path, &fields).await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).contains("generated=0"), "{}", location(&r));
    assert_eq!(count(slug, "slots"), expected);
    assert_eq!(count(slug, "schedules"), 1);

    // The list shows them; deactivate, then reactivate.
    let r = admin.get("/admin/practitioners").await;
    let html = text(&r);
    assert!(html.contains(&format!("<td>{expected}</td>")), "{html}");
    let r = admin
        .post(
            &format!("/admin/practitioners/{id}/active"),
            &[("csrf", &csrf), ("idem", &idem(&html)), ("active", "false")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        in_clinic(
            slug,
            &format!(
                "SELECT active::text || (resource->>'active') FROM practitioners WHERE id = '{id}'"
            )
        ),
        "falsefalse"
    );
    let html = text(&admin.get("/admin/practitioners").await);
    assert!(html.contains("Reactivate"), "{html}");

    // Unknown and malformed ids: 404 pages.
    let r = admin
        .get("/admin/practitioners/00000000-0000-4000-8000-0000000000ff/availability")
        .await;
    assert_eq!(r.status(), 404);
    let r = admin.get("/admin/practitioners/nope/availability").await;
    assert_eq!(r.status(), 404);
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("idem", "unknown-practitioner-key"),
    ];
    fields.extend(good.iter().copied());
    let r = admin
        .post(
            "/admin/practitioners/00000000-0000-4000-8000-0000000000ff/availability",
            &fields,
        )
        .await;
    assert_eq!(r.status(), 404, "{}", text(&r));
    assert_eq!(count(slug, "schedules"), 1);

    // A post without the session's CSRF token: refused before the page runs.
    let r = admin
        .post(
            &format!("/admin/practitioners/{id}/active"),
            &[("active", "true")],
        )
        .await;
    assert_eq!(r.status(), 403);

    // The dashboard counts what is there.
    let html = text(&admin.get("/admin").await);
    assert!(html.contains("1\u{2069} practitioner"), "{html}");
    assert!(html.contains("Active: \u{2068}0\u{2069}"), "{html}");
}

#[tokio::test]
async fn only_admins_open_the_admin_pages() {
    stack();
    let slug = "web-admin-roles";
    create_clinic(slug).await;
    let s = serve().await;
    let edge = common::edge::NativeEdge::new(&s.base, &signer(), &SigningKey::from_seed([7; 32]));
    let nobody = Browser::new(&edge, slug, None);
    for path in ["/admin", "/admin/practitioners"] {
        let r = nobody.get(path).await;
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(
            location(&r),
            format!("/sign-in?next={}", common::browser::encode(path))
        );
    }
    for role in [Role::Patient, Role::Practitioner] {
        let (cookie, csrf) = session(slug, role);
        let b = Browser::new(&edge, slug, Some(cookie));
        let r = b.get("/admin/practitioners").await;
        assert_eq!(r.status(), 403, "{role:?}");
        assert!(text(&r).contains("Access denied"));
        let r = b
            .post(
                "/admin/practitioners",
                &[
                    ("csrf", &csrf),
                    ("idem", "k-0123456789abcdef"),
                    ("family", "X"),
                ],
            )
            .await;
        assert_eq!(r.status(), 403, "{role:?}");
    }
    assert_eq!(count(slug, "practitioners"), 0);
    // Another clinic's admin session is no session here.
    let (cookie, _) = session("web-admin-fr", Role::Admin);
    let b = Browser::new(&edge, slug, Some(cookie));
    assert_eq!(b.get("/admin").await.status(), 303);
}

#[tokio::test]
async fn prices_are_set_changed_and_retired_in_the_clinics_currency() {
    stack();
    let s = serve().await;
    let edge = common::edge::NativeEdge::new(&s.base, &signer(), &SigningKey::from_seed([7; 32]));
    let slug = "web-admin-prices";
    create_clinic(slug).await;
    let (cookie, csrf) = session(slug, Role::Admin);
    let admin = Browser::new(&edge, slug, Some(cookie));
    let html = text(&admin.get("/admin/prices").await);
    assert!(html.contains("No prices yet."), "{html}");
    assert!(html.contains("Price (\u{2068}EUR\u{2069})"), "{html}");

    // Too many decimals for the euro: next to the field, nothing written.
    let r = admin
        .post(
            "/admin/prices",
            &[
                ("csrf", &csrf),
                ("idem", &idem(&html)),
                ("code", "teleconsultation"),
                ("display", "Teleconsultation"),
                ("amount", "45.505"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = text(&r);
    assert!(
        html.contains(r#"aria-describedby="f-amount-error""#),
        "{html}"
    );
    assert!(html.contains("2\u{2069} decimals at most"), "{html}");
    assert_eq!(count(slug, "charge_item_definitions"), 0);

    // Set (a decimal comma is read), then changed: one active price, the old one retired.
    for (amount, form) in [("45,50", idem(&html)), ("50", String::new())] {
        let form = if form.is_empty() {
            idem(&text(&admin.get("/admin/prices").await))
        } else {
            form
        };
        let r = admin
            .post(
                "/admin/prices",
                &[
                    ("csrf", &csrf),
                    ("idem", &form),
                    ("code", "teleconsultation"),
                    ("display", "Teleconsultation"),
                    ("amount", amount),
                ],
            )
            .await;
        assert_eq!(r.status(), 303, "{}", text(&r));
        assert_eq!(location(&r), "/admin/prices");
    }
    assert_eq!(
        in_clinic(
            slug,
            "SELECT string_agg(status || ':' || amount::text, ',' ORDER BY seq) FROM charge_item_definitions"
        ),
        "retired:45.50,active:50.00"
    );
    let html = text(&admin.get("/admin/prices").await);
    // CLDR's English as written in the clinic's country (en-FR), as every page shows money.
    let fifty = telemed_shared::money::Money::new(
        telemed_shared::money::parse_decimal("50.00").unwrap(),
        telemed_shared::money::Currency::Eur,
    )
    .unwrap()
    .format_in_country(
        telemed_shared::i18n::locale::Locale::from_tag("en").unwrap(),
        &"FR".parse().unwrap(),
    )
    .unwrap();
    assert!(fifty.starts_with("50,00"), "{fifty}");
    assert!(
        html.contains(&telemed_shared::web::escape(&fifty)),
        "formatted in English: {html}"
    );

    // Slots offer a priced consultation type: the schedule's, which bookings take.
    let form = idem(&text(&admin.get("/admin/practitioners").await));
    let r = admin
        .post(
            "/admin/practitioners",
            &[
                ("csrf", &csrf),
                ("idem", &form),
                ("family", "Martin"),
                ("active", "true"),
            ],
        )
        .await;
    let path = location(&r).replace("?added=1", "");
    let page = text(&admin.get(&path).await);
    assert!(
        page.contains(r#"<option value="teleconsultation">Teleconsultation</option>"#),
        "{page}"
    );
    let form = idem(&page);
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("idem", form.as_str()),
        ("service", "teleconsultation"),
    ];
    fields.extend(week(&[]));
    let r = admin.post(&path, &fields).await;
    assert_eq!(r.status(), 303, "{}", text(&r));
    assert_eq!(
        in_clinic(
            slug,
            "SELECT count(*) || '/' || count(*) FILTER (WHERE resource->'serviceType'->0->'coding'->0->>'code' = 'teleconsultation') FROM slots"
        ),
        format!("{n}/{n}", n = 2 * (9 + 9 + 3))
    );
    let page = text(&admin.get(&path).await);
    assert!(
        page.contains(r#"<option value="teleconsultation" selected>"#),
        "the schedule's type is shown: {page}"
    );
    let html_fr = {
        let mut b = Request::get(format!("http://{slug}.localhost/admin/prices?locale=fr"));
        b = b.header("cookie", admin.cookie.as_deref().unwrap());
        text(&edge.request(b.body(Vec::new()).unwrap()).await.response)
    };
    assert!(
        html_fr.contains("50,00\u{a0}€"),
        "formatted in French: {html_fr}"
    );
    let dashboard = text(&admin.get("/admin").await);
    assert!(
        dashboard.contains("1\u{2069} consultation type priced"),
        "{dashboard}"
    );

    // Retired: no active price left, the rows stay.
    let id = in_clinic(
        slug,
        "SELECT id FROM charge_item_definitions WHERE status = 'active'",
    );
    let r = admin
        .post(
            &format!("/admin/prices/{id}/retire"),
            &[("csrf", &csrf), ("idem", &idem(&html))],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", text(&r));
    assert_eq!(
        in_clinic(
            slug,
            "SELECT count(*) FILTER (WHERE status = 'active') || '/' || count(*) FROM charge_item_definitions"
        ),
        "0/2"
    );
    let r = admin
        .post(
            &format!("/admin/prices/{id}/retire"),
            &[("csrf", &csrf), ("idem", "retire-again-0123456789")],
        )
        .await;
    assert_eq!(r.status(), 404, "already retired");

    // A clinic billing in CFA francs: no decimals.
    let xof = "web-admin-prices-xof";
    create_clinic_in(xof, Some("XOF")).await;
    let (cookie, csrf) = session(xof, Role::Admin);
    let admin = Browser::new(&edge, xof, Some(cookie));
    let html = text(&admin.get("/admin/prices").await);
    let r = admin
        .post(
            "/admin/prices",
            &[
                ("csrf", &csrf),
                ("idem", &idem(&html)),
                ("code", "visite"),
                ("display", "Visite"),
                ("amount", "15000.5"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(text(&r).contains("0\u{2069} decimals at most"));
    let r = admin
        .post(
            "/admin/prices",
            &[
                ("csrf", &csrf),
                ("idem", &idem(&text(&r))),
                ("code", "visite"),
                ("display", "Visite"),
                ("amount", "15000"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{}", text(&r));
    assert_eq!(
        in_clinic(
            xof,
            "SELECT amount::text || ' ' || currency FROM charge_item_definitions"
        ),
        "15000 XOF"
    );
}

#[tokio::test]
async fn an_admin_creates_accounts_that_sign_in_and_disables_them() {
    stack();
    let s = serve().await;
    let edge = common::edge::NativeEdge::new(&s.base, &signer(), &SigningKey::from_seed([7; 32]));
    let slug = "web-admin-accounts";
    create_clinic(slug).await;
    let (cookie, csrf) = session(slug, Role::Admin);
    let admin = Browser::new(&edge, slug, Some(cookie));
    let html = text(&admin.get("/admin/practitioners").await);
    let r = admin
        .post(
            "/admin/practitioners",
            &[
                ("csrf", &csrf),
                ("idem", &idem(&html)),
                ("given", "Claire"),
                ("family", "Durand"),
                ("active", "true"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let practitioner = in_clinic(slug, "SELECT id FROM practitioners");

    let html = text(&admin.get("/admin/accounts").await);
    assert!(
        html.contains(&format!(
            r#"<option value="{practitioner}">Claire Durand</option>"#
        )),
        "{html}"
    );
    assert!(html.contains(r#"<label for="f-password">"#));
    let create = |form: &str, email: &'static str, password: &'static str| {
        let form = form.to_owned();
        let csrf = csrf.clone();
        let practitioner = practitioner.clone();
        let admin = &admin;
        async move {
            admin
                .post(
                    "/admin/accounts",
                    &[
                        ("csrf", csrf.as_str()),
                        ("idem", form.as_str()),
                        ("email", email),
                        ("display_name", "Dr Claire Durand"),
                        ("role", "practitioner"),
                        ("practitioner", practitioner.as_str()),
                        ("password", password),
                    ],
                )
                .await
        }
    };
    // A password under the rule: next to the field, no call.
    let r = create(&idem(&html), "claire@clinic.example", "short").await;
    assert_eq!(r.status(), 422);
    assert!(text(&r).contains(r#"aria-describedby="f-password-error""#));
    assert_eq!(count(slug, "accounts"), 0);

    let r = create(
        &idem(&html),
        "Claire@Clinic.example",
        "correct horse battery",
    )
    .await;
    assert_eq!(r.status(), 303, "{}", text(&r));
    assert_eq!(
        in_clinic(
            slug,
            "SELECT email || '|' || role || '|' || practitioner_id || '|' || left(password_hash, 10) FROM accounts"
        ),
        format!("claire@clinic.example|practitioner|{practitioner}|$argon2id$")
    );

    // The same address again, in another case: the region's conflict, next to the field.
    let html = text(&admin.get("/admin/accounts").await);
    let r = create(
        &idem(&html),
        "CLAIRE@clinic.example",
        "another long password",
    )
    .await;
    assert_eq!(r.status(), 409);
    let page = text(&r);
    assert!(
        page.contains(r#"aria-describedby="f-email-error""#),
        "{page}"
    );
    assert!(page.contains("An account already uses this email address."));
    assert_eq!(count(slug, "accounts"), 1);

    // The account signs in (its password hashed by the region) as a practitioner.
    let sign_in = async |password: &str| {
        let form = format!(
            "csrf=0123456789abcdefXYZ&email=claire%40clinic.example&password={}",
            common::browser::encode(password)
        );
        let req = Request::post(format!("http://{slug}.localhost/sign-in"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", "csrf=0123456789abcdefXYZ")
            .body(form.into_bytes())
            .unwrap();
        edge.request(req).await.response
    };
    let r = sign_in("correct horse battery").await;
    assert_eq!(r.status(), 303, "{}", text(&r));
    assert_eq!(location(&r), "/practitioner");
    let html = text(&admin.get("/admin/accounts").await);
    assert!(html.contains(" UTC</time>"), "last sign-in shown: {html}");

    // Disabled: it no longer signs in.
    let id = in_clinic(slug, "SELECT id FROM accounts");
    let r = admin
        .post(
            &format!("/admin/accounts/{id}/disabled"),
            &[
                ("csrf", &csrf),
                ("idem", &idem(&html)),
                ("disabled", "true"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(in_clinic(slug, "SELECT disabled FROM accounts"), "t");
    assert_eq!(sign_in("correct horse battery").await.status(), 401);
    let html = text(&admin.get("/admin/accounts").await);
    assert!(html.contains(">Enable</button>"), "{html}");
    let dashboard = text(&admin.get("/admin").await);
    assert!(
        dashboard.contains("0\u{2069} accounts can sign in"),
        "{dashboard}"
    );
}
