//! Prices and invoices against a real Postgres (issue 10 item 3): prices are written with the
//! catalog's `chargeitemdefinition.create` as the edge validates them, as the service's own
//! role; a fulfilled appointment issues one invoice in the clinic's currency; amounts come
//! back exactly; a clinic sees only its own prices and invoices.

mod common;

use std::time::Duration;

use regional_db::{db, migrate, provision};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use telemed_shared::{
    api::{
        resource::{Rules, statement_name, validate},
        resources::charge_item_definition::{CONSULTATION_TYPE_SYSTEM, ChargeItemDefinition},
    },
    billing,
    compliance::SHAPE_ONLY,
    dataplane::catalog::lookup,
    money::Currency,
};
use tokio_postgres::types::ToSql;
use xtask::pg::PgCluster;

const DB: &str = "billing_eu";
const LOGIN: &str = "regional_db_billing";
const PASSWORD: &str = "billing-test-password";

fn cluster() -> &'static PgCluster {
    static C: std::sync::OnceLock<PgCluster> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        let c = common::cluster("billing-pg", &[DB]);
        let url = c.url(DB);
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async {
                let pool = db::pool(&url, 1, Duration::from_secs(10)).unwrap();
                migrate::run(&common::region("eu-west"), &pool, &pool, false)
                    .await
                    .unwrap();
            })
        })
        .join()
        .unwrap();
        common::service_login(&c, DB, LOGIN, PASSWORD);
        c
    })
}

/// A clinic of `country` billing in `currency`, homed in eu-west.
async fn clinic(slug: &str, country: &str, currency: &str) {
    let pool = db::pool(&cluster().url(DB), 2, Duration::from_secs(10)).unwrap();
    let r = common::region("eu-west");
    provision::create(
        &provision::NewTenant {
            slug: slug.into(),
            name: format!("Clinic {slug}"),
            country: country.into(),
            region: Some("eu-west".into()),
            domains: vec![],
            currency: Some(currency.into()),
        },
        &provision::Target {
            region: &r,
            pool: &pool,
            control: &pool,
            control_is_local: true,
        },
    )
    .await
    .unwrap();
}

/// A connection pinned to `slug`'s schema: as the administrator (seeding) or as the
/// service's role (what `regional-db serve` runs the catalog as).
async fn pinned(slug: &str, service: bool) -> tokio_postgres::Client {
    let url = if service {
        format!(
            "postgres://{LOGIN}:{PASSWORD}@127.0.0.1:{}/{DB}",
            cluster().port()
        )
    } else {
        cluster().url(DB)
    };
    common::pinned(&url, slug).await
}

/// Runs the catalog statement `name` with JSON parameters typed as the catalog declares
/// (text, uuid, int8, jsonb), rows as JSON objects (as the region returns them).
async fn run(
    c: &tokio_postgres::Client,
    name: &str,
    params: &[Value],
) -> Result<Vec<Map<String, Value>>, tokio_postgres::Error> {
    let stmt = lookup(name).unwrap_or_else(|| panic!("{name} is in the catalog"));
    let types = regional_db::params::pg_types(stmt);
    let sql = telemed_shared::dataplane::catalog::envelope::json_rows(stmt.sql);
    let prepared = c.prepare_typed(&sql, &types).await?;
    let boxed: Vec<Box<dyn ToSql + Sync + Send>> = params
        .iter()
        .zip(&types)
        .map(|(v, t)| -> Box<dyn ToSql + Sync + Send> {
            match (v, t.name()) {
                (Value::Null, "jsonb") => Box::new(None::<Value>),
                (Value::Null, "uuid") => Box::new(None::<uuid::Uuid>),
                (Value::Null, "int8") => Box::new(None::<i64>),
                (Value::Null, _) => Box::new(None::<String>),
                (v, "jsonb") => Box::new(v.clone()),
                (v, "uuid") => Box::new(v.as_str().unwrap().parse::<uuid::Uuid>().unwrap()),
                (v, "int8") => Box::new(v.as_i64().unwrap()),
                (v, _) => Box::new(v.as_str().unwrap().to_owned()),
            }
        })
        .collect();
    let refs: Vec<&(dyn ToSql + Sync)> = boxed
        .iter()
        .map(|b| b.as_ref() as &(dyn ToSql + Sync))
        .collect();
    let rows = c.query(&prepared, &refs).await?;
    Ok(rows
        .iter()
        .map(|r| match r.get::<_, Value>(0) {
            Value::Object(m) => m,
            _ => unreachable!(),
        })
        .collect())
}

/// A price of `value` (JSON number text) in `currency` for consultation type `code`, as the
/// client sends it.
fn price_body(code: &str, value: &str, currency: &str) -> Value {
    serde_json::from_str(&format!(
        r#"{{"resourceType": "ChargeItemDefinition",
             "url": "https://clinic.example/fhir/ChargeItemDefinition/{code}",
             "status": "active",
             "code": {{"coding": [{{"system": "{CONSULTATION_TYPE_SYSTEM}", "code": "{code}",
                                  "display": "Consultation {code}"}}]}},
             "propertyGroup": [{{"priceComponent": [{{"type": "base",
                 "amount": {{"value": {value}, "currency": "{currency}"}}}}]}}]}}"#
    ))
    .unwrap()
}

/// Creates a price through `chargeitemdefinition.create` after the edge's validation
/// (`currency` the edge's knowledge of the clinic, `None` for a cold edge).
async fn create_price(
    c: &tokio_postgres::Client,
    body: Value,
    currency: Option<Currency>,
) -> Result<Map<String, Value>, tokio_postgres::Error> {
    let rules = Rules {
        policy: &SHAPE_ONLY,
        today: "2026-11-30",
        currency,
    };
    let v = validate(&ChargeItemDefinition, body, &rules).expect("the edge accepts it");
    let params: Vec<Value> = std::iter::once(v.resource).chain(v.columns).collect();
    let name = statement_name(&ChargeItemDefinition, "create");
    Ok(run(c, &name, &params).await?.remove(0))
}

/// A patient, practitioner, schedule, slot and booked appointment (consent gate bypassed
/// for the seed), with `service` as its serviceType coding (`None`: no serviceType).
/// Returns (patient, appointment).
async fn booked(admin: &tokio_postgres::Client, n: u32, service: Option<&str>) -> (String, String) {
    let id = |k: u32| format!("00000000-0000-4000-8000-{:012}", n * 10 + k);
    let (patient, practitioner, schedule, slot, appointment) = (id(1), id(2), id(3), id(4), id(5));
    let mut resource = json!({"resourceType": "Appointment", "status": "booked",
        "participant": [{"actor": {"reference": format!("Patient/{patient}")}, "status": "accepted"}]});
    if let Some(code) = service {
        resource["serviceType"] =
            json!([{"coding": [{"system": CONSULTATION_TYPE_SYSTEM, "code": code}]}]);
    }
    admin
        .batch_execute(&format!(
            "INSERT INTO patients (id, resource, family, given, birth_date, gender) \
               VALUES ('{patient}', '{{\"resourceType\": \"Patient\"}}', 'Diop', 'Awa', '1980-01-01', 'female');
             INSERT INTO practitioners (id, resource) VALUES ('{practitioner}', '{{\"resourceType\": \"Practitioner\"}}');
             INSERT INTO schedules (id, resource, practitioner) VALUES ('{schedule}', '{{\"resourceType\": \"Schedule\"}}', '{practitioner}');
             INSERT INTO slots (id, resource, schedule, status, starts_at, ends_at) VALUES
               ('{slot}', '{{\"resourceType\": \"Slot\"}}', '{schedule}', 'free',
                timestamptz '2026-12-01T09:00:00Z' + interval '{n} hours', timestamptz '2026-12-01T09:30:00Z' + interval '{n} hours');
             ALTER TABLE appointments DISABLE TRIGGER appointment_consent_gate;
             INSERT INTO appointments (id, resource, slot, patient, status) VALUES ('{appointment}', '{resource}', '{slot}', '{patient}', 'booked');
             ALTER TABLE appointments ENABLE TRIGGER appointment_consent_gate;"
        ))
        .await
        .unwrap();
    (patient, appointment)
}

/// Moves an appointment to `status`, as the service (the update statement's effect).
async fn set_status(
    c: &tokio_postgres::Client,
    appointment: &str,
    status: &str,
) -> Result<u64, tokio_postgres::Error> {
    c.execute(
        "UPDATE appointments SET status = $2, resource = resource || jsonb_build_object('status', $2::text), \
         version_id = version_id + 1 WHERE id::text = $1",
        &[&appointment, &status],
    )
    .await
}

async fn invoices_of(c: &tokio_postgres::Client, patient: &str) -> Vec<Map<String, Value>> {
    run(
        c,
        billing::names::PATIENT_INVOICES,
        &[json!(patient), json!(50)],
    )
    .await
    .unwrap()
}

fn amount_of(price: &Map<String, Value>) -> String {
    price["resource"]["propertyGroup"][0]["priceComponent"][0]["amount"]["value"].to_string()
}

#[tokio::test]
async fn prices_round_trip_exactly_and_a_fulfilled_consultation_is_invoiced_once() {
    let slug = "billing-eur";
    clinic(slug, "FR", "EUR").await;
    let (admin, service) = (pinned(slug, false).await, pinned(slug, true).await);

    // Exact amounts: the JSON in is the JSON out, and the NUMERIC holds the same digits.
    for (code, value) in [
        ("tc", "1234.50"),
        ("small", "0.10"),
        ("huge", "999999999999.99"),
    ] {
        let row = create_price(
            &service,
            price_body(code, value, "EUR"),
            Some(Currency::Eur),
        )
        .await
        .unwrap();
        assert_eq!(amount_of(&row), value, "{code}");
        let read = run(&service, "chargeitemdefinition.read", &[row["id"].clone()])
            .await
            .unwrap();
        assert_eq!(amount_of(&read[0]), value, "{code} read back");
        let stored: Decimal = admin
            .query_one(
                "SELECT amount FROM charge_item_definitions WHERE id = $1::text::uuid",
                &[&row["id"].as_str().unwrap()],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(stored.to_string(), value, "NUMERIC holds {value}");
    }
    let prices = run(&service, billing::names::PRICES, &[json!("active")])
        .await
        .unwrap();
    let listed: Vec<(String, String)> = prices
        .iter()
        .map(|p| {
            let p = billing::price_from_row(p).unwrap();
            (p.code, p.amount.to_string())
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("huge".to_owned(), "999999999999.99 EUR".to_owned()),
            ("small".to_owned(), "0.10 EUR".to_owned()),
            ("tc".to_owned(), "1234.50 EUR".to_owned()),
        ]
    );

    // One active price per consultation type.
    let err = create_price(
        &service,
        price_body("tc", "10.00", "EUR"),
        Some(Currency::Eur),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("charge_item_definitions_one_active_price")
            || format!("{err:?}").contains("charge_item_definitions_one_active_price"),
        "{err:?}"
    );

    // What a cold edge could not check, the schema refuses: another currency, cents of XOF.
    let err = create_price(&service, price_body("usd", "10.00", "USD"), None)
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("\\\"charge_item_definitions_currency\\\": USD is not EUR")
            || format!("{err:?}").contains("\"charge_item_definitions_currency\": USD is not EUR"),
        "{err:?}"
    );
    let err = admin
        .execute(
            "UPDATE charge_item_definitions SET resource = jsonb_set(resource, \
             '{propertyGroup,0,priceComponent,0,amount,value}', '1.005') WHERE code LIKE '%|small'",
            &[],
        )
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("charge_item_definitions_minor_units"),
        "{err:?}"
    );

    // Fulfilment issues one invoice with the exact price; a second fulfilment none.
    let (patient, appointment) = booked(&admin, 1, Some("tc")).await;
    set_status(&service, &appointment, "arrived").await.unwrap();
    assert!(
        invoices_of(&service, &patient).await.is_empty(),
        "arrived is not billed"
    );
    set_status(&service, &appointment, "fulfilled")
        .await
        .unwrap();
    let invoices = invoices_of(&service, &patient).await;
    assert_eq!(invoices.len(), 1);
    let line = billing::invoice_from_row(&invoices[0]).unwrap();
    assert_eq!(
        (
            line.code.as_str(),
            line.display.as_str(),
            line.amount.to_string().as_str()
        ),
        ("tc", "Consultation tc", "1234.50 EUR")
    );
    assert_eq!(line.appointment, appointment);
    // Back and forth (as only an operator could): still one invoice.
    admin
        .batch_execute(&format!(
            "ALTER TABLE appointments DISABLE TRIGGER appointments_transition;
             UPDATE appointments SET status = 'arrived' WHERE id = '{appointment}';
             UPDATE appointments SET status = 'fulfilled' WHERE id = '{appointment}';
             ALTER TABLE appointments ENABLE TRIGGER appointments_transition;"
        ))
        .await
        .unwrap();
    assert_eq!(invoices_of(&service, &patient).await.len(), 1);

    // The FHIR Invoice, as read through the API's statement.
    let read = run(&service, "invoice.read", &[json!(line.id)])
        .await
        .unwrap();
    let invoice = &read[0]["resource"];
    assert_eq!(invoice["status"], "issued");
    assert_eq!(
        invoice["subject"]["reference"],
        format!("Patient/{patient}")
    );
    assert_eq!(invoice["totalGross"]["value"].to_string(), "1234.50");
    assert_eq!(invoice["totalNet"]["currency"], "EUR");
    assert_eq!(
        invoice["lineItem"][0]["priceComponent"][0],
        serde_json::from_str::<Value>(
            r#"{"type": "base", "amount": {"value": 1234.50, "currency": "EUR"}}"#
        )
        .unwrap()
    );
    assert_eq!(
        invoice["extension"][0]["valueReference"]["reference"],
        format!("Appointment/{appointment}")
    );

    // A clinic that bills refuses to fulfil what no active price covers.
    let (_, unpriced) = booked(&admin, 2, Some("unknown-type")).await;
    set_status(&service, &unpriced, "arrived").await.unwrap();
    let err = set_status(&service, &unpriced, "fulfilled")
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("appointments_priced"),
        "{err:?}"
    );
    let (_, untyped) = booked(&admin, 3, None).await;
    set_status(&service, &untyped, "arrived").await.unwrap();
    let err = set_status(&service, &untyped, "fulfilled")
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("0 consultation types"),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_xof_clinic_bills_whole_francs_and_clinics_see_only_their_own() {
    let (xof, other) = ("billing-xof", "billing-none");
    clinic(xof, "FR", "XOF").await;
    clinic(other, "FR", "EUR").await;
    let (admin, service) = (pinned(xof, false).await, pinned(xof, true).await);
    let row = create_price(
        &service,
        price_body("tc", "25000", "XOF"),
        Some(Currency::Xof),
    )
    .await
    .unwrap();
    assert_eq!(amount_of(&row), "25000");
    // Francs have no cents: the edge says so, and a write that skipped the edge too.
    let err = run(
        &service,
        "chargeitemdefinition.create",
        &[
            price_body("cents", "25000.5", "XOF"),
            json!(format!("{CONSULTATION_TYPE_SYSTEM}|cents")),
            json!("active"),
        ],
    )
    .await
    .unwrap_err();
    assert!(
        format!("{err:?}").contains("charge_item_definitions_minor_units"),
        "{err:?}"
    );

    let (patient, appointment) = booked(&admin, 1, Some("tc")).await;
    set_status(&service, &appointment, "arrived").await.unwrap();
    set_status(&service, &appointment, "fulfilled")
        .await
        .unwrap();
    let invoices = invoices_of(&service, &patient).await;
    assert_eq!(invoices.len(), 1);
    assert_eq!(
        (
            invoices[0]["amount"].as_str(),
            invoices[0]["currency"].as_str()
        ),
        (Some("25000"), Some("XOF"))
    );

    // The other clinic sees none of it; it has no price, so it does not bill: its
    // fulfilments succeed and issue nothing.
    let (other_admin, other_service) = (pinned(other, false).await, pinned(other, true).await);
    assert!(
        run(&other_service, billing::names::PRICES, &[Value::Null])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(invoices_of(&other_service, &patient).await.is_empty());
    let (p2, a2) = booked(&other_admin, 1, Some("tc")).await;
    set_status(&other_service, &a2, "arrived").await.unwrap();
    set_status(&other_service, &a2, "fulfilled").await.unwrap();
    assert!(invoices_of(&other_service, &p2).await.is_empty());
}

#[tokio::test]
async fn latest_rates_are_read_in_a_clinics_batch_for_an_estimate() {
    let slug = "billing-rates";
    clinic(slug, "FR", "EUR").await;
    cluster()
        .psql(
            DB,
            "INSERT INTO control.exchange_rates (currency, as_of, per_eur, source) VALUES \
             ('USD', '2026-11-20', 1.1000, 'ecb'), ('USD', '2026-11-27', 1.1225, 'ecb') \
             ON CONFLICT DO NOTHING",
        )
        .unwrap();
    let service = pinned(slug, true).await;
    let rows = run(&service, billing::names::LATEST_RATES, &[])
        .await
        .unwrap();
    let usd: Vec<_> = rows.iter().filter(|r| r["currency"] == "USD").collect();
    assert_eq!(usd.len(), 1, "the latest only: {rows:?}");
    assert_eq!(
        (usd[0]["per_eur"].as_str(), usd[0]["as_of"].as_str()),
        (Some("1.1225"), Some("2026-11-27"))
    );
    let rates = billing::rates_from_rows(&rows);
    let price = telemed_shared::money::Money::from_minor(5000, Currency::Eur);
    let e =
        billing::estimate(&price, Currency::Usd, &rates, "2026-11-30".parse().unwrap()).unwrap();
    assert_eq!(e.money.to_string(), "56.13 USD");
    assert!(e.approximate && !e.stale);
}

/// The consultation type travels from the schedule to its generated slots, from a slot to
/// the appointment booked in it (which names none itself), and so to the invoice.
#[tokio::test]
async fn a_booking_is_billed_as_the_consultation_type_its_slot_offers() {
    let slug = "billing-types";
    clinic(slug, "FR", "EUR").await;
    let (admin, service) = (pinned(slug, false).await, pinned(slug, true).await);
    create_price(
        &service,
        price_body("video", "42.00", "EUR"),
        Some(Currency::Eur),
    )
    .await
    .unwrap();
    let (patient, practitioner, schedule) = (
        "00000000-0000-4000-8000-000000009001",
        "00000000-0000-4000-8000-000000009002",
        "00000000-0000-4000-8000-000000009003",
    );
    let offered = json!([{"coding": [{"system": CONSULTATION_TYPE_SYSTEM, "code": "video"}]}]);
    admin
        .batch_execute(&format!(
            "INSERT INTO patients (id, resource, family, given, birth_date, gender) \
               VALUES ('{patient}', '{{\"resourceType\": \"Patient\"}}', 'Diop', 'Awa', '1980-01-01', 'female');
             INSERT INTO practitioners (id, resource) VALUES ('{practitioner}', '{{\"resourceType\": \"Practitioner\"}}');
             INSERT INTO schedules (id, resource, practitioner) VALUES ('{schedule}',
               '{{\"resourceType\": \"Schedule\", \"serviceType\": {offered}}}', '{practitioner}');"
        ))
        .await
        .unwrap();
    let slots = run(
        &service,
        "schedule.generate-slots",
        &[
            json!(schedule),
            json!("2026-12-07"),
            json!("2026-12-07"),
            json!([1]),
            json!("09:00:00"),
            json!("10:00:00"),
            json!(30),
            json!("UTC"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(slots.len(), 2);
    for s in &slots {
        assert_eq!(s["resource"]["serviceType"], offered, "{s:?}");
    }
    let slot = slots[0]["id"].as_str().unwrap();
    let appointment = "00000000-0000-4000-8000-000000009005";
    admin
        .batch_execute(&format!(
            "ALTER TABLE appointments DISABLE TRIGGER appointment_consent_gate;
             INSERT INTO appointments (id, resource, slot, patient, status) VALUES ('{appointment}',
               '{{\"resourceType\": \"Appointment\", \"status\": \"booked\"}}', '{slot}', '{patient}', 'booked');
             ALTER TABLE appointments ENABLE TRIGGER appointment_consent_gate;"
        ))
        .await
        .unwrap();
    let stored: Value = admin
        .query_one(
            &format!("SELECT resource FROM appointments WHERE id = '{appointment}'"),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored["serviceType"], offered);
    set_status(&service, appointment, "arrived").await.unwrap();
    set_status(&service, appointment, "fulfilled")
        .await
        .unwrap();
    let invoices = invoices_of(&service, patient).await;
    assert_eq!(invoices.len(), 1, "{invoices:?}");
    assert_eq!(invoices[0]["amount"], "42.00");
    assert_eq!(invoices[0]["code"], "video");
}
