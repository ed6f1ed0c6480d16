//! `regional-db jobs run rates`: the euro reference rates, fetched from a feed in the ECB's
//! `eurofxref-daily.xml` format (configurable: tests serve a fixture), parsed by
//! [`telemed_shared::money::ecb`], and stored as dated data in `control.exchange_rates` with
//! the CFA francs' legal parity — on the control plane, which replicates them to every
//! region with the directory.
//!
//! All or nothing: a feed that cannot be fetched, is not a reference-rate document, or
//! holds a rate dated after today stores nothing, and the rates already there stay (an
//! estimate then shows their date, and flags them once stale). Running it twice on the
//! same publication changes nothing; a corrected publication of a day replaces that day.

use std::time::Duration;

use chrono::NaiveDate;
use deadpool_postgres::Pool;
use telemed_shared::money::{
    Currency,
    convert::{Rate, RateSource},
    ecb,
};

use super::JobError;
use crate::migrate::pool_error;

/// The ECB's daily reference rates: the default feed.
pub const ECB_DAILY: &str = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml";

/// How long the feed may take to answer.
const FEED_TIMEOUT: Duration = Duration::from_secs(20);
/// A reference-rate document is a few KB; anything far larger is not one.
const MAX_FEED_BYTES: usize = 1024 * 1024;

/// What a refresh stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refreshed {
    /// The newest publication date in the feed.
    pub as_of: NaiveDate,
    /// Market rates written (new or corrected) of the feed's rates we bill in.
    pub market: usize,
    /// Rates of the feed already stored as they are.
    pub unchanged: usize,
    /// The pegged currencies (XOF, XAF), whose parity is stored once.
    pub pegged: Vec<Currency>,
}

/// Fetches `feed`, checks its rates against `today`, and stores them with the pegs, in one
/// transaction on the control database `control`.
pub async fn refresh(control: &Pool, feed: &str, today: NaiveDate) -> Result<Refreshed, JobError> {
    let body = fetch(feed).await?;
    let rates = ecb::parse(&body).map_err(|e| JobError::Feed(format!("{feed}: {e}")))?;
    let as_of = rates
        .iter()
        .map(Rate::as_of)
        .max()
        .ok_or_else(|| JobError::Feed(format!("{feed}: no rate we bill in")))?;
    if as_of > today {
        return Err(JobError::Feed(format!(
            "{feed}: rates dated {as_of}, after today ({today}): a clock or feed error"
        )));
    }
    let pegged: Vec<Currency> = Currency::all()
        .filter(|c| Rate::peg(*c).is_some())
        .collect();
    let mut client = control.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    let upsert = tx
        .prepare(
            "INSERT INTO control.exchange_rates (currency, as_of, per_eur, source) \
             VALUES ($1, $2, $3::text::numeric, $4) \
             ON CONFLICT (currency, as_of) DO UPDATE \
                 SET per_eur = EXCLUDED.per_eur, source = EXCLUDED.source, fetched_at = now() \
                 WHERE (exchange_rates.per_eur, exchange_rates.source) \
                       IS DISTINCT FROM (EXCLUDED.per_eur, EXCLUDED.source)",
        )
        .await?;
    let mut market = 0;
    let mut unchanged = 0;
    let pegs = pegged.iter().filter_map(|c| Rate::peg(*c));
    for rate in rates.iter().cloned().chain(pegs) {
        let written = tx
            .execute(
                &upsert,
                &[
                    &rate.currency().code(),
                    &rate.as_of(),
                    &rate.per_eur().to_string(),
                    &rate.source().code(),
                ],
            )
            .await?;
        match (rate.source(), written) {
            (RateSource::Peg, _) => {}
            (_, 0) => unchanged += 1,
            _ => market += 1,
        }
    }
    tx.commit().await?;
    Ok(Refreshed {
        as_of,
        market,
        unchanged,
        pegged,
    })
}

/// The feed's body as text: a 2xx answer within [`FEED_TIMEOUT`] and [`MAX_FEED_BYTES`].
async fn fetch(feed: &str) -> Result<String, JobError> {
    let fail = |why: String| JobError::Feed(format!("{feed}: {why}"));
    let http = reqwest::Client::builder()
        .timeout(FEED_TIMEOUT)
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let resp = http
        .get(feed)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(fail(format!("HTTP {}", resp.status())));
    }
    let bytes = resp.bytes().await.map_err(|e| fail(e.to_string()))?;
    if bytes.len() > MAX_FEED_BYTES {
        return Err(fail(format!(
            "{} bytes, not a reference-rate document",
            bytes.len()
        )));
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| fail("not UTF-8 text".into()))
}
