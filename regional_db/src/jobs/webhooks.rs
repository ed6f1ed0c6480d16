//! The webhook delivery job (Standard Webhooks 1.0): in every clinic homed in this region,
//! sends the deliveries that are due, signed, and schedules the retries. `regional-db jobs
//! run webhooks [--tenant SLUG | --all]`, or every few seconds inside `regional-db serve
//! --webhooks-every-seconds N` (counted in `regional_webhook_deliveries_total{outcome}`).
//!
//! What is delivered comes from the clinic's outbox (`migrations/tenant/0017_webhooks.sql`):
//! the triggers write each event, and one delivery per subscribed endpoint, in the same
//! transaction as the change. The job only reads this region's primary and only for
//! clinics homed here: a clinic's webhooks never leave its home region's job.
//!
//! - **Claims** take due deliveries with `FOR UPDATE SKIP LOCKED` and lease them (the
//!   next attempt moves past the request's timeout, the attempt count goes up) in a short
//!   transaction; the requests are sent outside any transaction. Several instances may run
//!   side by side; a claim whose sender died comes back when its lease ends. Delivery is at
//!   least once: every attempt carries the event's id as `webhook-id`, for receivers to
//!   dedupe.
//! - **Signatures**: `webhook-signature: v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>`
//!   under the endpoint's `whsec_` key, sealed in the clinic's schema with its data key.
//! - **Outcomes**: 2xx delivered; 410 disables the endpoint (its pending deliveries wait);
//!   anything else (429, 5xx, a timeout, a refused connection) is retried on [`SCHEDULE`]
//!   with up to 20 % jitter, never before the receiver's `Retry-After`; after the last
//!   attempt the delivery has failed. Every attempt is logged (`webhook_attempts`).
//! - **Payloads**: `{"type", "timestamp", "data"}` where `data` holds FHIR references only
//!   (no names, birth dates or readings).
//! - **Where to**: only URLs the region's [`OutboundPolicy`] allows (https, public
//!   addresses; `--allow-local-urls` for a local stack): checked when an endpoint is added,
//!   again before each attempt (a refused URL is a failed attempt whose error says why),
//!   and at connection time by the client's resolver (DNS rebinding).

use std::time::{Duration, Instant};

use base64::{Engine, engine::general_purpose::STANDARD as B64};
use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use serde_json::{Value, json};
use telemed_shared::{geo::RegionId, tenant::TenantSlug};
use uuid::Uuid;

use super::{JobError, clinics};
use crate::{db, migrate::pool_error, outbound::OutboundPolicy, vault::Vault};

/// The event types a clinic's endpoint may subscribe to (the migrations check the same
/// list): the data events, and the marketplace's `app.installed` / `app.uninstalled`.
pub const EVENT_TYPES: &[&str] = &telemed_shared::apps::EVENT_TYPES;

/// When each attempt is made, after the previous one failed (Standard Webhooks' suggested
/// schedule): the first immediately, the last about 3 days after the event.
pub const SCHEDULE: [Duration; 10] = [
    Duration::ZERO,
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(14 * 3600),
    Duration::from_secs(20 * 3600),
    Duration::from_secs(24 * 3600),
];

/// How long a receiver has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// How long a claim is held: a sender that died mid-request gives its deliveries back
/// after this (longer than [`TIMEOUT`], so a live sender's claim never lapses).
pub const LEASE: Duration = Duration::from_secs(120);
/// The longest `Retry-After` honoured: a receiver cannot park a delivery for longer.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Deliveries claimed per clinic per run.
const BATCH: i64 = 50;
/// Random bytes of a new secret (Standard Webhooks: 24 to 64).
const SECRET_BYTES: usize = 32;

/// Claims due deliveries: leased for `$3` seconds ([`Settings::lease`]), attempt counted.
const CLAIM_SQL: &str = "\
WITH due AS (
    SELECT d.id FROM webhook_deliveries d
    JOIN webhook_endpoints e ON e.id = d.endpoint
    WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND e.disabled_at IS NULL
    ORDER BY d.next_attempt_at, d.id
    LIMIT $2
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1, next_attempt_at = $1 + make_interval(secs => $3), updated_at = $1
FROM due, webhook_endpoints e, outbox_events o
WHERE d.id = due.id AND e.id = d.endpoint AND o.id = d.event
RETURNING d.id, d.attempts, e.id, e.url, webhook_endpoint_secret(e.id), o.id, o.type,
          o.payload, o.created_at";

/// A `whsec_` secret: its decoded bytes are the HMAC key.
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Secret {
    /// A new random secret.
    pub fn generate() -> Secret {
        let mut key = vec![0u8; SECRET_BYTES];
        getrandom::fill(&mut key).expect("the OS random source");
        Secret(key)
    }

    /// Parses `whsec_<base64>` (24 to 64 bytes once decoded).
    pub fn parse(s: &str) -> Result<Secret, JobError> {
        let bad =
            || JobError::Webhook("a secret is whsec_ and the base64 of 24 to 64 bytes".into());
        let key = B64
            .decode(s.strip_prefix("whsec_").ok_or_else(bad)?)
            .map_err(|_| bad())?;
        if !(24..=64).contains(&key.len()) {
            return Err(bad());
        }
        Ok(Secret(key))
    }

    /// The key itself (what an app's `control.apps.webhook_secret` holds).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// `whsec_…`: what the receiver is given, once.
    pub fn expose(&self) -> String {
        format!("whsec_{}", B64.encode(&self.0))
    }

    /// The `webhook-signature` value of `body` sent as message `id` at `timestamp`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut message = format!("{id}.{timestamp}.").into_bytes();
        message.extend_from_slice(body);
        format!(
            "v1,{}",
            B64.encode(hmac_sha256::HMAC::mac(&message, &self.0))
        )
    }
}

/// An endpoint to add to a clinic.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub url: String,
    pub event_types: Vec<String>,
    pub description: Option<String>,
}

/// Adds an endpoint to `slug` (homed in `region`) with a new secret, sealed with the
/// clinic's data key, if `policy` lets the region call its URL. Returns its id and the
/// secret, which nothing can read back later.
pub async fn add_endpoint(
    pool: &Pool,
    control: &Pool,
    region: &RegionId,
    vault: &Vault,
    policy: &OutboundPolicy,
    slug: &TenantSlug,
    new: &NewEndpoint,
) -> Result<(Uuid, Secret), JobError> {
    clinics(control, region, Some(slug)).await?;
    if !(new.url.starts_with("https://") || new.url.starts_with("http://")) {
        return Err(JobError::Webhook(format!(
            "{:?} is not an http(s) URL",
            new.url
        )));
    }
    policy
        .check(&new.url)
        .await
        .map_err(|e| JobError::Webhook(format!("the region will not call this URL: {e}")))?;
    if new.event_types.is_empty() {
        return Err(JobError::Webhook(
            "subscribe to at least one event type".into(),
        ));
    }
    if let Some(t) = new
        .event_types
        .iter()
        .find(|t| !EVENT_TYPES.contains(&t.as_str()))
    {
        return Err(JobError::Webhook(format!(
            "unknown event type {t:?} (known: {})",
            EVENT_TYPES.join(", ")
        )));
    }
    let secret = Secret::generate();
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    let key = vault
        .data_key(&tx, slug, true)
        .await?
        .ok_or_else(|| JobError::Webhook("the clinic has no data key".into()))?;
    let sealed = key.seal(&secret.0)?;
    db::pin_schema(&tx, slug).await?;
    let id: Uuid = tx
        .query_one(
            "INSERT INTO webhook_endpoints (url, secret_sealed, event_types, description) \
             VALUES ($1, $2, $3, $4) RETURNING id",
            &[&new.url, &sealed, &new.event_types, &new.description],
        )
        .await?
        .get(0);
    tx.commit().await?;
    Ok((id, secret))
}

/// How deliveries are made: production's [`TIMEOUT`] and [`LEASE`] unless a test
/// shortens them, and which URLs may be called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// How long a receiver has to answer.
    pub timeout: Duration,
    /// How long a claim is held (longer than `timeout`: [`Settings::check`]).
    pub lease: Duration,
    pub policy: OutboundPolicy,
}

impl Settings {
    /// Production's timings, under `policy`.
    pub fn new(policy: OutboundPolicy) -> Self {
        Self {
            timeout: TIMEOUT,
            lease: LEASE,
            policy,
        }
    }

    /// Refuses a lease that could lapse while its request is still waiting for an answer
    /// (another sender would send the same delivery meanwhile).
    pub fn check(self) -> Result<Self, JobError> {
        if self.timeout.is_zero() || self.lease <= self.timeout {
            return Err(JobError::Webhook(format!(
                "the lease ({} s) must be longer than the timeout ({} s), which is not zero",
                self.lease.as_secs_f64(),
                self.timeout.as_secs_f64()
            )));
        }
        Ok(self)
    }
}

/// What to run over, and as of when.
#[derive(Debug, Clone)]
pub struct WebhookJob {
    /// The instant deliveries are due against (the wall clock in production; the tests'
    /// clock otherwise). `webhook-timestamp` is always the wall clock.
    pub now: DateTime<Utc>,
    /// One clinic; every clinic homed in the region when `None`.
    pub only: Option<TenantSlug>,
    pub settings: Settings,
}

/// What became of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver answered 2xx.
    Delivered,
    /// It failed; another attempt is scheduled.
    Retried,
    /// It failed and it was the last attempt.
    Failed,
    /// The receiver answered 410 Gone: the endpoint is disabled.
    Disabled,
}

impl Outcome {
    /// The `outcome` label of `regional_webhook_deliveries_total`.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Retried => "retried",
            Outcome::Failed => "failed",
            Outcome::Disabled => "disabled",
        }
    }
}

/// One clinic's run: the outcome of each attempt made.
#[derive(Debug, Clone)]
pub struct ClinicReport {
    pub slug: TenantSlug,
    pub outcomes: Vec<Outcome>,
}

impl ClinicReport {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.outcomes.iter().filter(|o| **o == outcome).count()
    }
}

/// The HTTP client of deliveries: the settings' timeout, connections to the addresses the
/// policy allows only ([`OutboundPolicy::client_builder`]), and no redirects (a
/// receiver's redirect is a failed attempt, not a new destination).
pub fn http_client(settings: &Settings) -> Result<reqwest::Client, JobError> {
    settings
        .policy
        .client_builder()
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("telemed-edge-webhooks/1")
        .build()
        .map_err(|e| JobError::Webhook(format!("HTTP client: {e}")))
}

/// Runs one round over the clinics homed in `region`; `pool` is the region's primary.
pub async fn run(
    job: &WebhookJob,
    region: &RegionId,
    pool: &Pool,
    control: &Pool,
    vault: &Vault,
    http: &reqwest::Client,
) -> Result<Vec<ClinicReport>, JobError> {
    let mut reports = Vec::new();
    for clinic in clinics(control, region, job.only.as_ref()).await? {
        let outcomes = run_clinic(job, pool, vault, http, &clinic.slug).await?;
        reports.push(ClinicReport {
            slug: clinic.slug,
            outcomes,
        });
    }
    Ok(reports)
}

/// Runs [`run`] over every clinic of `region` each `period`, for as long as the service
/// runs, handing each attempt's outcome to `counted`. A clinic's failure is logged and
/// the next round tries again.
pub async fn every(
    period: Duration,
    settings: Settings,
    region: RegionId,
    pool: Pool,
    control: Pool,
    vault: &Vault,
    counted: impl Fn(Outcome),
) {
    let http = match settings.check().and_then(|s| http_client(&s)) {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "webhook deliveries off");
            return;
        }
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let job = WebhookJob {
            now: Utc::now(),
            only: None,
            settings,
        };
        match run(&job, &region, &pool, &control, vault, &http).await {
            Ok(reports) => {
                for r in reports {
                    r.outcomes.iter().copied().for_each(&counted);
                    if !r.outcomes.is_empty() {
                        tracing::info!(
                            clinic = %r.slug,
                            delivered = r.count(Outcome::Delivered),
                            retried = r.count(Outcome::Retried),
                            failed = r.count(Outcome::Failed),
                            disabled = r.count(Outcome::Disabled),
                            "webhooks"
                        );
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "webhook round failed"),
        }
    }
}

/// A claimed delivery.
struct Claimed {
    delivery: i64,
    attempt: i32,
    endpoint: Uuid,
    url: String,
    sealed: Vec<u8>,
    event: Uuid,
    body: Vec<u8>,
}

/// What the receiver did with one attempt.
struct Answer {
    status: Option<u16>,
    error: Option<String>,
    retry_after: Option<Duration>,
    took: Duration,
}

async fn run_clinic(
    job: &WebhookJob,
    pool: &Pool,
    vault: &Vault,
    http: &reqwest::Client,
    slug: &TenantSlug,
) -> Result<Vec<Outcome>, JobError> {
    let started = Instant::now();
    let mut client = pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    db::pin_schema(&tx, slug).await?;
    let lease = job.settings.lease.as_secs_f64();
    let rows = tx.query(CLAIM_SQL, &[&job.now, &BATCH, &lease]).await?;
    tx.commit().await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let claimed = rows
        .iter()
        .map(|r| {
            let created: DateTime<Utc> = r.try_get(8)?;
            let body = json!({
                "type": r.try_get::<_, String>(6)?,
                "timestamp": created.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "data": r.try_get::<_, Value>(7)?,
            });
            Ok(Claimed {
                delivery: r.try_get(0)?,
                attempt: r.try_get(1)?,
                endpoint: r.try_get(2)?,
                url: r.try_get(3)?,
                sealed: r.try_get(4)?,
                event: r.try_get(5)?,
                body: serde_json::to_vec(&body).expect("JSON serializes"),
            })
        })
        .collect::<Result<Vec<_>, tokio_postgres::Error>>()?;
    let key = vault
        .data_key(&client, slug, false)
        .await?
        .ok_or_else(|| JobError::Webhook(format!("clinic {slug} has no data key")))?;
    let mut sends = tokio::task::JoinSet::new();
    for c in claimed {
        let answer = match key.open(&c.sealed) {
            Ok(secret) => {
                let secret = Secret(secret);
                let http = http.clone();
                let settings = job.settings;
                sends.spawn(async move {
                    let a = send(&http, &settings, &c, &secret).await;
                    (c, a)
                });
                continue;
            }
            Err(e) => Answer {
                status: None,
                error: Some(format!("the endpoint's secret does not open: {e}")),
                retry_after: None,
                took: Duration::ZERO,
            },
        };
        sends.spawn(async move { (c, answer) });
    }
    let mut outcomes = Vec::new();
    while let Some(done) = sends.join_next().await {
        let (c, answer) = done.map_err(|e| JobError::Webhook(format!("a send panicked: {e}")))?;
        // The test's clock moved on by as long as the round took.
        let now = job.now + started.elapsed();
        outcomes.push(record(&mut client, slug, &c, &answer, now).await?);
    }
    Ok(outcomes)
}

/// One signed POST, if the policy lets the region call the endpoint's URL (it may have
/// been added under another policy, or its name may resolve elsewhere now).
async fn send(http: &reqwest::Client, settings: &Settings, c: &Claimed, secret: &Secret) -> Answer {
    if let Err(e) = settings.policy.check(&c.url).await {
        return Answer {
            status: None,
            error: Some(format!("not sent: the region will not call this URL ({e})")),
            retry_after: None,
            took: Duration::ZERO,
        };
    }
    let id = c.event.to_string();
    let timestamp = Utc::now().timestamp();
    let signature = secret.sign(&id, timestamp, &c.body);
    let started = Instant::now();
    let sent = http
        .post(&c.url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(c.body.clone())
        .send()
        .await;
    let took = started.elapsed();
    match sent {
        Ok(r) => Answer {
            status: Some(r.status().as_u16()),
            error: (!r.status().is_success()).then(|| format!("HTTP {}", r.status().as_u16())),
            retry_after: r
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, Utc::now())),
            took,
        },
        Err(e) => Answer {
            status: None,
            error: Some(if e.is_timeout() {
                format!("no answer within {} s", settings.timeout.as_secs_f64())
            } else if e.is_connect() {
                // The guarded resolver's refusal (a name rebound to a private address)
                // is a connection error too.
                format!("could not connect: {}", error_chain(&e))
            } else {
                "the request failed".to_owned()
            }),
            retry_after: None,
            took,
        },
    }
}

/// An error and its sources, without the URL (the log and the admin's page show the URL
/// apart).
fn error_chain(e: &reqwest::Error) -> String {
    let mut text = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&s.to_string());
        source = s.source();
    }
    if text.is_empty() {
        "the connection failed".to_owned()
    } else {
        text
    }
}

/// `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3), capped.
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => (DateTime::parse_from_rfc2822(value).ok()?.to_utc() - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// When attempt `attempts + 1` is due after attempt `attempts` failed (`None`: it was the
/// last), with `jitter` in [0, 1) adding up to 20 % and `Retry-After` honoured.
pub fn next_delay(attempts: i32, jitter: f64, retry_after: Option<Duration>) -> Option<Duration> {
    let base = *SCHEDULE.get(usize::try_from(attempts).ok()?)?;
    let jittered = base.mul_f64(1.0 + 0.2 * jitter.clamp(0.0, 1.0));
    Some(jittered.max(retry_after.unwrap_or(Duration::ZERO)))
}

fn jitter() -> f64 {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).expect("the OS random source");
    f64::from(u32::from_le_bytes(b)) / (f64::from(u32::MAX) + 1.0)
}

/// Stores an attempt's outcome and its log line, in one transaction. A claim whose lease
/// ran out and was taken again (its attempt count moved on) keeps the newer state; a
/// delivery erased meanwhile (its patient's erasure purged the event) stays gone.
async fn record(
    client: &mut deadpool_postgres::Client,
    slug: &TenantSlug,
    c: &Claimed,
    a: &Answer,
    now: DateTime<Utc>,
) -> Result<Outcome, JobError> {
    let code = a.status.map(i32::from);
    let outcome = match a.status {
        Some(s) if (200..300).contains(&s) => Outcome::Delivered,
        Some(410) => Outcome::Disabled,
        _ => match next_delay(c.attempt, jitter(), a.retry_after) {
            Some(_) => Outcome::Retried,
            None => Outcome::Failed,
        },
    };
    let tx = client.transaction().await?;
    db::pin_schema(&tx, slug).await?;
    let current = "WHERE id = $1 AND attempts = $2 AND status = 'pending'";
    match outcome {
        Outcome::Delivered => {
            tx.execute(
                &format!(
                    "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $3, \
                     last_status_code = $4, last_error = NULL, updated_at = $3 {current}"
                ),
                &[&c.delivery, &c.attempt, &now, &code],
            )
            .await?;
        }
        Outcome::Retried => {
            let delay = next_delay(c.attempt, jitter(), a.retry_after).unwrap_or_default();
            let next = now + chrono::Duration::from_std(delay).unwrap_or_default();
            tx.execute(
                &format!(
                    "UPDATE webhook_deliveries SET next_attempt_at = $3, last_status_code = $4, \
                     last_error = $5, updated_at = $6 {current}"
                ),
                &[&c.delivery, &c.attempt, &next, &code, &a.error, &now],
            )
            .await?;
        }
        Outcome::Failed | Outcome::Disabled => {
            tx.execute(
                &format!(
                    "UPDATE webhook_deliveries SET status = 'failed', last_status_code = $3, \
                     last_error = $4, updated_at = $5 {current}"
                ),
                &[&c.delivery, &c.attempt, &code, &a.error, &now],
            )
            .await?;
        }
    }
    if outcome == Outcome::Disabled {
        tx.execute(
            "UPDATE webhook_endpoints SET disabled_at = $2, disabled_reason = $3 \
             WHERE id = $1 AND disabled_at IS NULL",
            &[&c.endpoint, &now, &telemed_shared::webhooks::GONE_REASON],
        )
        .await?;
    }
    let took = i32::try_from(a.took.as_millis()).unwrap_or(i32::MAX);
    tx.execute(
        "INSERT INTO webhook_attempts (delivery, attempt, at, status_code, error, duration_ms) \
         SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = $1) \
         ON CONFLICT DO NOTHING",
        &[&c.delivery, &c.attempt, &now, &code, &a.error, &took],
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_the_spec_s_with_jitter_and_retry_after() {
        assert_eq!(next_delay(1, 0.0, None), Some(Duration::from_secs(5)));
        assert_eq!(next_delay(1, 0.999_999, None).map(|d| d.as_secs()), Some(5));
        assert_eq!(
            next_delay(2, 0.5, None),
            Some(Duration::from_secs(5 * 60 + 30))
        );
        assert_eq!(
            next_delay(1, 0.0, Some(Duration::from_secs(120))),
            Some(Duration::from_secs(120))
        );
        assert_eq!(next_delay(9, 0.0, None), Some(Duration::from_secs(86_400)));
        assert_eq!(next_delay(10, 0.0, None), None);
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date_capped_at_a_day() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(retry_after("9999999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn secrets_round_trip_and_sign_as_the_spec_s_example() {
        // The example of the Standard Webhooks specification (spec/standard-webhooks.md).
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            secret.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let fresh = Secret::generate();
        assert_eq!(Secret::parse(&fresh.expose()).unwrap().0, fresh.0);
        assert!(Secret::parse("whsec_c2hvcnQ=").is_err());
        assert!(Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
    }
}
