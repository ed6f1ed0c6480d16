//! `POST /v1/sign-in`: a person's password checked in the clinic's home region.
//!
//! What must hold, whatever the attempt:
//! - **Nothing tells whether an account exists.** An unknown email, a wrong password and a
//!   disabled account get the same [`SignInOutcome::Refused`], after the same work: an
//!   unknown email is verified against a dummy hash with the real parameters
//!   ([`passwords::dummy_hash`]), and counted and locked like a known one.
//! - **Guessing is throttled** ([`THROTTLE`]): 5 failures for an email within 15 minutes
//!   lock that email for 15 minutes; 20 failures from one client address within 15 minutes
//!   lock that address. While locked, even the right password is refused, with
//!   `retry_after_secs`, and no hash is computed. Failures are counted by one upsert per
//!   key (the row is locked while it is updated: concurrent failures all count); a success
//!   re-checks the lock under a row lock before it is granted, then clears its email's
//!   count.
//! - **Every attempt is in the clinic's audit trail** (`sign-in`, resource type
//!   `Account`, outcome `ok`, `refused` or `locked`, actor `account:<id>` or the client's
//!   `client:<address>`), naming the account when the email has one — never the
//!   password, nor an email that matches no account (people type passwords into email
//!   fields, and the trail is append-only).
//!
//! The database connection is not held while the hash is computed (tens of milliseconds):
//! the look-up and the verdict are two short transactions.
//!
//! Operators' sign-ins (`crate::operators`) count and lock failures with the same
//! statements, on `control.sign_in_failures`.

use std::{net::IpAddr, time::Duration};

use deadpool_postgres::{GenericClient, Pool, Transaction};
use telemed_shared::{
    accounts::{Account, Role, normalize_email},
    dataplane::wire::{ErrorCode, RegionError, SignInOutcome, SignInRequest},
    tenant::TenantSlug,
};
use tokio_postgres::types::Type;

use crate::{
    accounts::ACCOUNT,
    db::{self, AuditEntry, Outcome},
    error, passwords,
};

/// How failed sign-ins are throttled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Failures of one email within [`Throttle::window`] that lock it.
    pub email_failures: i32,
    /// Failures from one client address within [`Throttle::window`] that lock it.
    pub client_failures: i32,
    /// The counting window, opened by a key's first failure.
    pub window: Duration,
    /// How long a locked key stays locked.
    pub lock: Duration,
}

/// OWASP's advice in numbers: few enough guesses per account to make online guessing
/// hopeless, a short enough lock that a person who forgot is not shut out for long.
pub const THROTTLE: Throttle = Throttle {
    email_failures: 5,
    client_failures: 20,
    window: Duration::from_secs(15 * 60),
    lock: Duration::from_secs(15 * 60),
};

/// The audit action and statement name of a sign-in.
pub const SIGN_IN: &str = "sign-in";

/// How an attempt ended, for `regional_sign_ins_total{outcome}` and the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Signed in.
    Ok,
    /// Wrong password, unknown email or disabled account.
    Refused,
    /// The email or the client's address is locked.
    Locked,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Refused => "refused",
            Self::Locked => "locked",
        }
    }
}

/// The throttling keys of an attempt: its email's, and its client's when the edge said.
pub(crate) struct Keys {
    pub(crate) email: String,
    pub(crate) client: Option<String>,
}

impl Keys {
    pub(crate) fn all(&self) -> Vec<String> {
        std::iter::once(self.email.clone())
            .chain(self.client.clone())
            .collect()
    }
}

/// Checks the request's fields before anything runs: a malformed email or address is the
/// edge's mistake (400), and says nothing about any account.
pub(crate) fn keys_of(request: &SignInRequest) -> Result<(String, Keys), RegionError> {
    let bad = |m: &str| RegionError::new(ErrorCode::BadRequest, m);
    let email = normalize_email(&request.email).ok_or_else(|| bad("not an email address"))?;
    let client = request
        .client
        .as_deref()
        .map(|c| {
            c.trim()
                .parse::<IpAddr>()
                .map(|ip| format!("client:{ip}"))
                .map_err(|_| bad("`client` is not an IP address"))
        })
        .transpose()?;
    Ok((
        email.clone(),
        Keys {
            email: format!("email:{email}"),
            client,
        },
    ))
}

/// Where the people signing in live — a clinic's accounts, or the platform's operators —
/// and how their attempts are recorded. [`attempt_in`] is the one flow both go through.
pub(crate) trait Realm {
    type Identity: Clone;
    /// Pins the transaction to the schema holding the credentials and the throttle's
    /// `sign_in_failures`.
    async fn pin(&self, tx: &Transaction<'_>) -> Result<(), RegionError>;
    /// The identity `email` names, its hash and whether it is disabled.
    async fn credentials(
        &self,
        tx: &Transaction<'_>,
        email: &str,
    ) -> Result<Option<Found<Self::Identity>>, RegionError>;
    /// Notes a granted sign-in; `false` when the identity was disabled meanwhile.
    async fn signed_in(
        &self,
        tx: &Transaction<'_>,
        who: &Self::Identity,
    ) -> Result<bool, RegionError>;
    /// Appends the attempt to the realm's trail: `who` is the identity the email named (if
    /// any), `matched` whether its password matched, `client` the client's actor.
    async fn record(
        &self,
        tx: &Transaction<'_>,
        client: &str,
        who: Option<&Self::Identity>,
        matched: bool,
        verdict: Verdict,
    ) -> Result<(), RegionError>;
}

/// What a look-up found for an email.
pub(crate) struct Found<I> {
    pub identity: I,
    pub disabled: bool,
    pub hash: String,
}

/// How an attempt ends for the caller.
pub(crate) enum Decision<I> {
    SignedIn(I),
    Refused { retry_after_secs: Option<u64> },
}

/// Runs one sign-in attempt for clinic `slug` (homed here), on the primary `pool`. `edge`
/// is where the edge that asked runs (for the trail). Errors are faults (database down…),
/// never a refusal.
pub async fn attempt(
    pool: &Pool,
    slug: &TenantSlug,
    request: &SignInRequest,
    edge: Option<&str>,
) -> Result<(SignInOutcome, Verdict), RegionError> {
    let (decision, verdict) = attempt_in(pool, &Clinic { slug, edge }, request).await?;
    Ok((
        match decision {
            Decision::SignedIn(account) => SignInOutcome::SignedIn(account),
            Decision::Refused { retry_after_secs } => SignInOutcome::Refused { retry_after_secs },
        },
        verdict,
    ))
}

/// One attempt in `realm` (see the module documentation for what holds): the look-up
/// and the verdict are two short transactions, the hash is computed between them with no
/// connection held.
pub(crate) async fn attempt_in<R: Realm>(
    pool: &Pool,
    realm: &R,
    request: &SignInRequest,
) -> Result<(Decision<R::Identity>, Verdict), RegionError> {
    let (email, keys) = keys_of(request)?;
    let client = keys
        .client
        .clone()
        .unwrap_or_else(|| "anonymous".to_owned());
    let pg = |e: tokio_postgres::Error| error::from_postgres(&e);
    let locked = |wait: u64| Decision::Refused {
        retry_after_secs: Some(wait.max(1)),
    };

    // 1. Locked? Then refuse without computing any hash. Else look the identity up.
    let found = {
        let mut conn = pool.get().await.map_err(|e| error::from_pool(&e))?;
        let tx = conn.transaction().await.map_err(pg)?;
        realm.pin(&tx).await?;
        if let Some(wait) = locked_for(&tx, &keys.all(), false).await.map_err(pg)? {
            realm
                .record(&tx, &client, None, false, Verdict::Locked)
                .await?;
            tx.commit().await.map_err(pg)?;
            return Ok((locked(wait), Verdict::Locked));
        }
        let found = realm.credentials(&tx, &email).await?;
        tx.commit().await.map_err(pg)?;
        found
    };

    // 2. The hash, without a connection held: the identity's, or the dummy's.
    let hash = match &found {
        Some(f) => f.hash.clone(),
        None => passwords::dummy_hash().await,
    };
    let matches = passwords::verify(request.password.clone(), hash).await;
    let named = found.as_ref().map(|f| f.identity.clone());
    let granted = match found {
        Some(f) if matches && !f.disabled => Some(f.identity),
        _ => None,
    };

    // 3. The verdict, in one transaction with its record.
    let mut conn = pool.get().await.map_err(|e| error::from_pool(&e))?;
    let tx = conn.transaction().await.map_err(pg)?;
    realm.pin(&tx).await?;
    if let Some(identity) = granted {
        // A lock that concurrent failures set meanwhile still stands.
        if let Some(wait) = locked_for(&tx, &keys.all(), true).await.map_err(pg)? {
            realm
                .record(&tx, &client, Some(&identity), true, Verdict::Locked)
                .await?;
            tx.commit().await.map_err(pg)?;
            return Ok((locked(wait), Verdict::Locked));
        }
        tx.execute(
            "DELETE FROM sign_in_failures WHERE key = $1",
            &[&keys.email],
        )
        .await
        .map_err(pg)?;
        if realm.signed_in(&tx, &identity).await? {
            realm
                .record(&tx, &client, Some(&identity), true, Verdict::Ok)
                .await?;
            tx.commit().await.map_err(pg)?;
            return Ok((Decision::SignedIn(identity), Verdict::Ok));
        }
        // Disabled (or removed) while the hash was computed: an ordinary refusal below.
    }
    let mut wait = count_failure(&tx, &keys.email, THROTTLE.email_failures)
        .await
        .map_err(pg)?;
    if let Some(client_key) = &keys.client {
        let client_wait = count_failure(&tx, client_key, THROTTLE.client_failures)
            .await
            .map_err(pg)?;
        wait = wait.max(client_wait);
    }
    forget_stale(&tx).await.map_err(pg)?;
    realm
        .record(&tx, &client, named.as_ref(), false, Verdict::Refused)
        .await?;
    tx.commit().await.map_err(pg)?;
    Ok((
        Decision::Refused {
            retry_after_secs: wait,
        },
        Verdict::Refused,
    ))
}

/// A clinic's accounts, in its schema; attempts in its audit trail.
struct Clinic<'a> {
    slug: &'a TenantSlug,
    edge: Option<&'a str>,
}

impl Realm for Clinic<'_> {
    type Identity = Account;

    async fn pin(&self, tx: &Transaction<'_>) -> Result<(), RegionError> {
        db::pin_schema(tx, self.slug)
            .await
            .map_err(|e| error::from_postgres(&e))
    }

    async fn credentials(
        &self,
        tx: &Transaction<'_>,
        email: &str,
    ) -> Result<Option<Found<Account>>, RegionError> {
        credentials(tx, email).await
    }

    async fn signed_in(&self, tx: &Transaction<'_>, who: &Account) -> Result<bool, RegionError> {
        let id: uuid::Uuid = who.id.parse().map_err(|_| error::internal())?;
        let still_enabled = tx
            .execute(
                "UPDATE accounts SET last_sign_in_at = now() WHERE id = $1 AND NOT disabled",
                &[&id],
            )
            .await
            .map_err(|e| error::from_postgres(&e))?;
        Ok(still_enabled == 1)
    }

    async fn record(
        &self,
        tx: &Transaction<'_>,
        client: &str,
        who: Option<&Account>,
        _matched: bool,
        verdict: Verdict,
    ) -> Result<(), RegionError> {
        let entry = audit_entry(who.map(|a| a.id.as_str()), verdict, self.edge);
        // A success is the account's act; anything else the client's.
        let actor = match (verdict, who) {
            (Verdict::Ok, Some(a)) => format!("account:{}", a.id),
            _ => client.to_owned(),
        };
        db::append_audit(tx, &actor, &entry)
            .await
            .map_err(|e| error::from_postgres(&e))
    }
}

fn audit_entry(account: Option<&str>, verdict: Verdict, edge: Option<&str>) -> AuditEntry {
    let entry = AuditEntry::new(SIGN_IN, SIGN_IN, ACCOUNT, vec![account.map(str::to_owned)])
        .with_edge(edge);
    match verdict {
        Verdict::Ok => entry,
        other => entry.with_outcome(Outcome::Denied(other.label())),
    }
}

/// Seconds until the latest lock among `keys` ends, if any is locked now; `for_update`
/// locks the rows read (a success re-checking against concurrent failures).
pub(crate) async fn locked_for(
    tx: &impl GenericClient,
    keys: &[String],
    for_update: bool,
) -> Result<Option<u64>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT ceil(extract(epoch FROM locked_until - now()))::int8 FROM sign_in_failures \
         WHERE key = ANY($1) AND locked_until > now(){}",
        if for_update { " FOR UPDATE" } else { "" }
    );
    let stmt = tx.prepare_typed_cached(&sql, &[Type::TEXT_ARRAY]).await?;
    let rows = tx.query(&stmt, &[&keys]).await?;
    let mut wait: Option<u64> = None;
    for row in rows {
        let secs: i64 = row.try_get(0)?;
        let secs = u64::try_from(secs).unwrap_or(1);
        wait = Some(wait.map_or(secs, |w| w.max(secs)));
    }
    Ok(wait)
}

/// The account of `email` (lower-cased), through the one function that reads hashes.
async fn credentials(
    tx: &impl GenericClient,
    email: &str,
) -> Result<Option<Found<Account>>, RegionError> {
    let pg = |e: tokio_postgres::Error| error::from_postgres(&e);
    let stmt = tx
        .prepare_typed_cached(
            "SELECT id::text, role, display_name, patient_id::text, practitioner_id::text, \
                    disabled, password_hash FROM account_credentials($1)",
            &[Type::TEXT],
        )
        .await
        .map_err(pg)?;
    let Some(row) = tx.query_opt(&stmt, &[&email]).await.map_err(pg)? else {
        return Ok(None);
    };
    let role: String = row.try_get(1).map_err(pg)?;
    let role = Role::parse(&role).ok_or_else(|| {
        tracing::error!("an account with an unknown role");
        error::internal()
    })?;
    Ok(Some(Found {
        identity: Account {
            id: row.try_get(0).map_err(pg)?,
            role,
            display_name: row.try_get(2).map_err(pg)?,
            patient_id: row.try_get(3).map_err(pg)?,
            practitioner_id: row.try_get(4).map_err(pg)?,
        },
        disabled: row.try_get(5).map_err(pg)?,
        hash: row.try_get(6).map_err(pg)?,
    }))
}

/// Counts one failure of `key` (an upsert: the row is locked while it is updated, so
/// concurrent failures all count); opens a new window when the last one is over; locks
/// the key when the count reaches `limit`. Seconds until the key's lock ends, if locked.
pub(crate) async fn count_failure(
    tx: &impl GenericClient,
    key: &str,
    limit: i32,
) -> Result<Option<u64>, tokio_postgres::Error> {
    let stmt = tx
        .prepare_typed_cached(
            "WITH t AS (SELECT make_interval(secs => $3) AS win, make_interval(secs => $4) AS lock) \
             INSERT INTO sign_in_failures AS f (key, failures, window_start, locked_until) \
             SELECT $1, 1, now(), CASE WHEN 1 >= $2 THEN now() + t.lock END FROM t \
             ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN f.window_start <= now() - make_interval(secs => $3) \
                               THEN 1 ELSE f.failures + 1 END, \
               window_start = CASE WHEN f.window_start <= now() - make_interval(secs => $3) \
                                   THEN now() ELSE f.window_start END, \
               locked_until = CASE WHEN (CASE WHEN f.window_start <= now() - make_interval(secs => $3) \
                                              THEN 1 ELSE f.failures + 1 END) >= $2 \
                                   THEN now() + make_interval(secs => $4) ELSE f.locked_until END \
             RETURNING CASE WHEN locked_until > now() \
                            THEN ceil(extract(epoch FROM locked_until - now()))::int8 END",
            &[Type::TEXT, Type::INT4, Type::FLOAT8, Type::FLOAT8],
        )
        .await?;
    let row = tx
        .query_one(
            &stmt,
            &[
                &key,
                &limit,
                &THROTTLE.window.as_secs_f64(),
                &THROTTLE.lock.as_secs_f64(),
            ],
        )
        .await?;
    let wait: Option<i64> = row.try_get(0)?;
    Ok(wait.map(|w| u64::try_from(w).unwrap_or(1)))
}

/// Drops counts whose window and lock are long over (a day), a few at a time: failures
/// for unknown emails and passing addresses would otherwise pile up.
pub(crate) async fn forget_stale(tx: &impl GenericClient) -> Result<(), tokio_postgres::Error> {
    tx.execute(
        "DELETE FROM sign_in_failures WHERE key IN ( \
           SELECT key FROM sign_in_failures \
           WHERE window_start < now() - interval '1 day' \
             AND (locked_until IS NULL OR locked_until < now()) \
           LIMIT 100)",
        &[],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use telemed_shared::accounts::Password;

    use super::*;

    fn request(email: &str, client: Option<&str>) -> SignInRequest {
        SignInRequest {
            email: email.into(),
            password: Password::new("irrelevant here"),
            client: client.map(Into::into),
        }
    }

    #[test]
    fn keys_are_the_lower_cased_email_and_the_canonical_address() {
        let (email, keys) =
            keys_of(&request(" Alice@Example.FR ", Some("2001:DB8:0:0::1"))).unwrap();
        assert_eq!(email, "alice@example.fr");
        assert_eq!(keys.email, "email:alice@example.fr");
        assert_eq!(keys.client.as_deref(), Some("client:2001:db8::1"));
        assert_eq!(keys.all().len(), 2);
        let (_, keys) = keys_of(&request("a@b.fr", None)).unwrap();
        assert_eq!(keys.all(), vec!["email:a@b.fr".to_owned()]);
        for bad in [request("not-an-email", None), request("a@b.fr", Some("x"))] {
            assert_eq!(keys_of(&bad).err().unwrap().code, ErrorCode::BadRequest);
        }
    }

    #[test]
    fn refusals_are_audited_without_an_account_or_password() {
        let e = audit_entry(None, Verdict::Refused, Some("eu-west/CDG"));
        assert_eq!((e.action, e.resource_type), (SIGN_IN, ACCOUNT));
        assert_eq!(e.ids, vec![None]);
        assert_eq!(e.outcome.label(), "refused");
        assert_eq!(
            audit_entry(Some("x"), Verdict::Ok, None).outcome.label(),
            "ok"
        );
    }
}
