//! Money through Postgres `numeric` (its own cluster, started by `xtask::pg`): amounts bound
//! as `rust_decimal::Decimal` (feature `db-tokio-postgres`, the binary NUMERIC format) come
//! back exactly, digits and scale, with no float anywhere on the way.

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
