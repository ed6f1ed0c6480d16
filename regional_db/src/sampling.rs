//! Gauges sampled in the background rather than at scrape time, because they cost a query:
//! active clinics homed here by country (from the control database), and the replica's
//! replay lag. Each loop samples at once, then on its interval, until the service stops.

use std::{collections::BTreeMap, time::Duration};

use deadpool_postgres::Pool;
use telemed_shared::geo::RegionId;

use crate::{error, metrics::Metrics};

/// How often clinics are counted.
pub const TENANTS_EVERY: Duration = Duration::from_secs(30);
/// How often the replica's lag is sampled (the alert fires on 2 minutes over 5 s).
pub const REPLICA_LAG_EVERY: Duration = Duration::from_secs(5);
/// A sample that takes longer than this failed.
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// Active clinics homed in `region`, by country.
pub async fn tenants_by_country(
    control: &Pool,
    region: &RegionId,
) -> Result<BTreeMap<String, i64>, String> {
    let client = control.get().await.map_err(|e| e.to_string())?;
    let rows = client
        .query(
            "SELECT country, count(*)::int8 FROM control.tenants \
             WHERE home_region = $1 AND status = 'active' GROUP BY country",
            &[&region.as_str()],
        )
        .await
        .map_err(|e| error::describe(&e))?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)))
        .collect())
}

/// Seconds the replica is behind its primary: 0 when everything it received is replayed
/// (an idle primary writes nothing, so "now − last replayed commit" would grow forever),
/// else the age of the last replayed transaction.
pub async fn replica_lag(replica: &Pool) -> Result<f64, String> {
    let client = replica.get().await.map_err(|e| e.to_string())?;
    let row = client
        .query_one(
            "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 \
                    ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) \
                    END::float8, pg_is_in_recovery()",
            &[],
        )
        .await
        .map_err(|e| error::describe(&e))?;
    if !row.get::<_, bool>(1) {
        return Err(
            "REPLICA_DATABASE_URL names a server that is not in recovery (a primary?)".into(),
        );
    }
    Ok(row.get::<_, f64>(0).max(0.0))
}

/// Refreshes `regional_tenants` every [`TENANTS_EVERY`].
pub async fn tenants_loop(control: Pool, region: RegionId, metrics: &Metrics) {
    let mut tick = tokio::time::interval(TENANTS_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match tokio::time::timeout(QUERY_TIMEOUT, tenants_by_country(&control, &region)).await {
            Ok(Ok(counts)) => metrics.set_tenants(&counts),
            Ok(Err(e)) => tracing::warn!(error = %e, "counting clinics for regional_tenants"),
            Err(_) => tracing::warn!("counting clinics for regional_tenants timed out"),
        }
    }
}

/// Samples `regional_replica_lag_seconds` every [`REPLICA_LAG_EVERY`]. A replica that
/// cannot be queried is reported as infinitely behind, so the lag alert fires. Each
/// sample's success is also told to `on_sample` (the read routing's health of the replica).
pub async fn replica_lag_loop(replica: Pool, metrics: &Metrics, on_sample: impl Fn(bool)) {
    let mut tick = tokio::time::interval(REPLICA_LAG_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let lag = match tokio::time::timeout(QUERY_TIMEOUT, replica_lag(&replica)).await {
            Ok(Ok(lag)) => lag,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "sampling the replica's lag");
                f64::INFINITY
            }
            Err(_) => {
                tracing::warn!("sampling the replica's lag timed out");
                f64::INFINITY
            }
        };
        on_sample(lag.is_finite());
        metrics.replica_lag.set(lag);
    }
}
