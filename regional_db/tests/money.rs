//! Money through Postgres `numeric` (its own cluster, started by `xtask::pg`): amounts bound
//! as `rust_decimal::Decimal` (feature `db-tokio-postgres`, the binary NUMERIC format) come
//! back exactly, digits and scale, with no float anywhere on the way; and the exchange rates
//! stored as dated data by `jobs run rates`.

mod common;

use std::sync::OnceLock;

use rust_decimal::Decimal;
use telemed_shared::money::Money;
use tokio_postgres::{Client, NoTls};
use xtask::pg::PgCluster;

/// This binary's cluster, started once for all its tests.
fn cluster() -> &'static PgCluster {
    static CLUSTER: OnceLock<PgCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| common::cluster("regional-db-pg-money", &["money"]))
}

async fn client() -> Client {
    let url = cluster().url("money");
    let (client, conn) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(conn);
    client
}

#[tokio::test]
async fn numeric_round_trip() {
    let db = client().await;
    db.batch_execute(
        "CREATE TABLE amounts (id int PRIMARY KEY, amount numeric NOT NULL, currency text NOT NULL)",
    )
    .await
    .unwrap();
    // (amount as written, what Postgres stores and prints, currency)
    let cases = [
        ("0.10", "0.10", "EUR"),
        ("12345678901234.56", "12345678901234.56", "EUR"),
        ("1235", "1235", "XOF"),
        ("-0.05", "-0.05", "USD"),
        // rust_decimal 1.43 sends zero without its scale: Postgres stores `0`, and
        // `Money::new` gives it back its two decimals.
        ("0.00", "0", "GBP"),
        ("1234.567", "1234.567", "TND"),
        // The largest amount a Money of two decimals holds (96-bit mantissa).
        (
            "792281625142643375935439503.35",
            "792281625142643375935439503.35",
            "ZAR",
        ),
    ];
    for (id, (amount, printed, currency)) in cases.iter().enumerate() {
        let money: Money = format!("{amount} {currency}").parse().unwrap();
        let id = i32::try_from(id).unwrap();
        db.execute(
            "INSERT INTO amounts (id, amount, currency) VALUES ($1, $2, $3)",
            &[&id, &money.amount(), &money.currency().code()],
        )
        .await
        .unwrap();
        let row = db
            .query_one(
                "SELECT amount, amount::text, currency FROM amounts WHERE id = $1",
                &[&id],
            )
            .await
            .unwrap();
        let back: Decimal = row.get(0);
        let text: &str = row.get(1);
        assert_eq!(text, *printed, "stored exactly: {money}");
        assert_eq!(back.to_string(), *printed, "read back as stored: {money}");
        let code: &str = row.get(2);
        let again = Money::new(back, code.parse().unwrap()).unwrap();
        assert_eq!(again, money);
        assert_eq!(again.amount().to_string(), *amount);
    }
    // 0.1 + 0.2 in the database is 0.3, as in `Money`.
    let sum: Decimal = db
        .query_one(
            "SELECT $1::numeric + $2::numeric",
            &[&Decimal::new(1, 1), &Decimal::new(2, 1)],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(sum.to_string(), "0.3");
}

/// A `numeric` beyond what `Decimal` holds is an error on reading, not a wrong amount.
#[tokio::test]
async fn numeric_out_of_range_is_an_error() {
    let db = client().await;
    let row = db
        .query_one("SELECT '1e40'::numeric, 'NaN'::numeric", &[])
        .await
        .unwrap();
    assert!(row.try_get::<_, Decimal>(0).is_err());
    assert!(row.try_get::<_, Decimal>(1).is_err());
}

/// `jobs run rates`: a feed in the ECB's exact format, served from a local server, stored
/// as dated data on the control plane with the CFA francs' parity; rerunning changes
/// nothing; a feed that is not one, fails, or is dated after today stores nothing.
#[tokio::test]
async fn rates_are_stored_as_dated_data_from_an_ecb_feed() {
    use axum::{Router, http::StatusCode, routing::get};
    use regional_db::{
        db,
        jobs::{JobError, rates},
        migrate,
    };
    use telemed_shared::money::{Currency, ecb};

    const FIXTURE: &str =
        include_str!("../../shared/src/money/testdata/eurofxref-daily-2026-10-02.xml");
    let pool = db::pool(
        &cluster().url("money"),
        2,
        std::time::Duration::from_secs(10),
    )
    .unwrap();
    migrate::migrate_control(&pool).await.unwrap();
    let app = Router::new()
        .route("/eurofxref-daily.xml", get(|| async { FIXTURE }))
        .route(
            "/maintenance.html",
            get(|| async { "<html><body>Service unavailable</body></html>" }),
        )
        .route(
            "/down.xml",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "later") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let day = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    let db = client().await;
    let stored = || async {
        db.query_one("SELECT count(*) FROM control.exchange_rates", &[])
            .await
            .unwrap()
            .get::<_, i64>(0)
    };

    let feed = format!("{base}/eurofxref-daily.xml");
    let billed = ecb::parse(FIXTURE).unwrap().len();
    let done = rates::refresh(&pool, &feed, day("2026-10-05"))
        .await
        .unwrap();
    assert_eq!(done.as_of, day("2026-10-02"));
    assert_eq!((done.market, done.unchanged), (billed, 0));
    assert_eq!(done.pegged, [Currency::Xaf, Currency::Xof]);
    let row = |currency: &'static str| {
        let db = &db;
        async move {
            let r = db
                .query_one(
                    "SELECT per_eur::text, as_of::text, source FROM control.exchange_rates \
                     WHERE currency = $1 ORDER BY as_of DESC LIMIT 1",
                    &[&currency],
                )
                .await
                .unwrap();
            (
                r.get::<_, String>(0),
                r.get::<_, String>(1),
                r.get::<_, String>(2),
            )
        }
    };
    assert_eq!(
        row("USD").await,
        ("1.1225".into(), "2026-10-02".into(), "ecb".into())
    );
    assert_eq!(
        row("ZAR").await,
        ("18.7839".into(), "2026-10-02".into(), "ecb".into())
    );
    assert_eq!(
        row("XOF").await,
        ("655.957".into(), "1999-01-01".into(), "peg".into())
    );
    let total = stored().await;
    assert_eq!(total, i64::try_from(billed + 2).unwrap());

    // The same publication again: nothing written.
    let again = rates::refresh(&pool, &feed, day("2026-10-05"))
        .await
        .unwrap();
    assert_eq!((again.market, again.unchanged), (0, billed));

    // Refused, with what was stored left as it was.
    for (feed, today, says) in [
        (feed.clone(), "2026-10-01", "after today"),
        (
            format!("{base}/maintenance.html"),
            "2026-10-05",
            "no dated rates",
        ),
        (format!("{base}/down.xml"), "2026-10-05", "HTTP 503"),
        (format!("{base}/nowhere.xml"), "2026-10-05", "HTTP 404"),
    ] {
        let err = rates::refresh(&pool, &feed, day(today)).await.unwrap_err();
        assert!(
            matches!(&err, JobError::Feed(m) if m.contains(says)),
            "{feed}: {err}"
        );
        assert_eq!(stored().await, total, "{feed}: nothing stored");
    }
}
