//! Operators' clinic management (`regional-db tenant list|show|update|suspend|resume|domain|delete`):
//! the directory entries on the control plane, and — for `show` and `delete` — the clinic's
//! schema in its home region.
//!
//! Every change is written with its record in `control.operator_events` (same transaction)
//! and logged; the record holds no health data and outlives a deleted clinic.
//!
//! - Directory changes (plan, name, locale, status, domains) may be run from any region's
//!   instance: they write the control plane, which replicates to every region. Edges cache
//!   entries for [`telemed_shared::cache::DIRECTORY_TTL_SECS`] and each `regional-db` for its
//!   `directory_ttl`: a change is in effect everywhere within that time.
//! - Custom domains route only once verified: [`domain_add`] writes a pending domain with a
//!   random token to publish as `_telemed-challenge.<domain> TXT "<token>"`, [`domain_verify`]
//!   looks the record up through a [`TxtResolver`] and only then marks it verified (the
//!   directory's statements ignore pending domains).
//! - [`delete`] runs only in the clinic's home region (residency: its data is there and
//!   nowhere else): it exports every table of the schema as JSON lines, then drops the
//!   schema (its wrapped data key with it) and removes the directory entry and domains.

use std::{
    collections::BTreeMap,
    future::Future,
    io::Write,
    path::{Path, PathBuf},
};

use deadpool_postgres::{GenericClient, Pool};
use serde_json::json;
use telemed_shared::{
    country::CountryCode,
    geo::RegionId,
    i18n::locale::Locale,
    tenant::{HostName, TenantSlug, TenantStatus},
};

use crate::{db::quote_ident, error::Error, migrate::pool_error};

/// The plans a clinic may be on. `standard` is what `tenant create` gives; nothing bills or
/// limits by plan yet, so the set is the product's list, checked here and only here.
pub const PLANS: [&str; 3] = telemed_shared::ops::wire::PLANS;

/// The TXT record's name prefix of a domain's verification.
pub const CHALLENGE_LABEL: &str = "_telemed-challenge";

/// Why a clinic-management command was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TenantError {
    /// No clinic has this slug in the directory.
    #[error("no clinic {0} in the directory")]
    UnknownClinic(TenantSlug),
    /// The clinic has no such domain (pending or verified).
    #[error("clinic {slug} has no domain {domain}")]
    UnknownDomain { slug: TenantSlug, domain: String },
    /// The domain is registered to another clinic.
    #[error("domain {domain} is registered to clinic {owner}")]
    DomainTaken { domain: String, owner: String },
    /// Not a domain name a clinic can be served on.
    #[error("{0:?} is not a domain name (e.g. www.clinique.example)")]
    BadDomain(String),
    /// The platform's apex domain, or a name under it: clinics get those by slug only.
    #[error(
        "{domain} is the platform's domain {apex} or under it: a clinic is already served at <slug>.{apex}; give a domain the clinic owns"
    )]
    ApexDomain { domain: String, apex: String },
    /// Domains are checked against the platform's apex domain, which was not given.
    #[error(
        "the platform's apex domain is not known here: set APEX_DOMAIN (or --apex-domain) so that custom domains under it are refused"
    )]
    NoApex,
    /// The TXT record is not (yet) published with the expected token.
    #[error(
        "domain {domain} is not verified: {record} TXT \"{token}\" was not found (found: {}); DNS changes can take the record's TTL to appear, retry later",
        if .found.is_empty() { "no TXT record".to_owned() } else { .found.join(", ") }
    )]
    NotVerified {
        domain: String,
        record: String,
        token: String,
        found: Vec<String>,
    },
    /// The DNS lookup itself failed (not "no such record").
    #[error("DNS lookup of {name} failed: {message}")]
    Dns { name: String, message: String },
    /// The plan is not one of [`PLANS`].
    #[error("unknown plan {0:?}: one of {plans}", plans = PLANS.join(", "))]
    BadPlan(String),
    /// The locale is not one the platform serves.
    #[error("unsupported locale {given:?}: one of {}", supported_locales().join(", "))]
    BadLocale { given: String },
    /// A clinic name has 1 to 200 characters.
    #[error("a clinic name has 1 to 200 characters")]
    BadName,
    /// `update` was given nothing to change.
    #[error("nothing to update: give --plan, --name or --default-locale")]
    NothingToUpdate,
    /// The clinic's patients are under legal hold: its data may not be purged.
    #[error(
        "clinic {slug} has {count} legal hold(s): lift them first (regional-db holds list --tenant {slug})"
    )]
    LegalHolds { slug: TenantSlug, count: i64 },
    /// Only a suspended clinic is deleted: its users then see "suspended", not errors, while
    /// the directory caches expire, and nothing writes to it during the export.
    #[error(
        "clinic {0} is active: suspend it first (regional-db tenant suspend {0}), wait for the edges' directory caches ({ttl} s), then delete it",
        ttl = telemed_shared::cache::DIRECTORY_TTL_SECS
    )]
    NotSuspended(TenantSlug),
    /// The export directory already holds files: an export never overwrites one.
    #[error("export directory {0} is not empty: give a new or empty directory")]
    ExportDirNotEmpty(PathBuf),
    /// Writing the export failed; nothing was deleted.
    #[error("writing the export to {path}: {source}")]
    Export {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Database, configuration or region errors (e.g. [`Error::WrongRegion`] for a delete
    /// outside the clinic's home region).
    #[error(transparent)]
    Region(#[from] Error),
}

impl From<tokio_postgres::Error> for TenantError {
    fn from(e: tokio_postgres::Error) -> Self {
        TenantError::Region(Error::Postgres(e))
    }
}

/// The tags of the locales the platform serves (`fr`, `en`, …).
pub fn supported_locales() -> Vec<&'static str> {
    Locale::all().map(|l| l.tag()).collect()
}

/// Where a command runs and who runs it.
pub struct Operator<'a> {
    pub region: &'a RegionId,
    /// This region's primary (clinic schemas homed here).
    pub pool: &'a Pool,
    /// The control plane's primary.
    pub control: &'a Pool,
    /// The control schema is in this region's own database.
    pub control_is_local: bool,
    /// Who, for `control.operator_events` (e.g. `$USER`, `operator:<email>`).
    pub actor: &'a str,
    /// The platform's apex domain (`APEX_DOMAIN`): no custom domain may be it or under
    /// it. Adding a domain without it is refused ([`TenantError::NoApex`]).
    pub apex: Option<&'a str>,
}

/// A custom domain and whether it routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub domain: String,
    /// Verified domains route to the clinic; pending ones do not.
    pub verified: bool,
    /// A pending domain's verification token (to publish as its TXT record).
    pub token: Option<String>,
}

/// A clinic as the directory has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clinic {
    pub slug: TenantSlug,
    pub name: String,
    pub country: String,
    pub home_region: String,
    pub default_locale: String,
    pub currency: String,
    pub plan: String,
    pub status: TenantStatus,
    pub schema_version: i32,
    pub created_at: String,
    pub domains: Vec<Domain>,
}

/// Which clinics `list` shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub country: Option<CountryCode>,
    pub status: Option<TenantStatus>,
    /// Only clinics whose slug sorts after this one (the previous page's last).
    pub after: Option<String>,
    /// At most this many.
    pub limit: Option<i64>,
}

/// `active` or `suspended`.
pub fn parse_status(s: &str) -> Result<TenantStatus, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "active" => Ok(TenantStatus::Active),
        "suspended" => Ok(TenantStatus::Suspended),
        _ => Err(format!("{s:?} is not a status: active or suspended")),
    }
}

/// The directory's word for `status`.
pub fn status_str(status: TenantStatus) -> &'static str {
    match status {
        TenantStatus::Active => "active",
        TenantStatus::Suspended => "suspended",
    }
}

const CLINIC_SQL: &str = "SELECT t.slug, t.name, t.country, t.home_region, t.default_locale, t.currency, \
       t.plan, t.status, t.schema_version, \
       to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
       coalesce((SELECT array_agg(d.domain ORDER BY d.domain) FROM control.tenant_domains d WHERE d.slug = t.slug), '{}'), \
       coalesce((SELECT array_agg(d.verified_at IS NOT NULL ORDER BY d.domain) FROM control.tenant_domains d WHERE d.slug = t.slug), '{}'), \
       coalesce((SELECT array_agg(CASE WHEN d.verified_at IS NULL THEN d.verification_token END ORDER BY d.domain) FROM control.tenant_domains d WHERE d.slug = t.slug), '{}') \
     FROM control.tenants t";

fn clinic_of(row: &tokio_postgres::Row) -> Result<Clinic, TenantError> {
    let slug: String = row.get(0);
    let status: String = row.get(7);
    let domains: Vec<String> = row.get(10);
    let verified: Vec<bool> = row.get(11);
    let tokens: Vec<Option<String>> = row.get(12);
    Ok(Clinic {
        slug: slug.parse().map_err(Error::Slug)?,
        name: row.get(1),
        country: row.get(2),
        home_region: row.get(3),
        default_locale: row.get(4),
        currency: row.get(5),
        plan: row.get(6),
        status: parse_status(&status).map_err(Error::Config)?,
        schema_version: row.get(8),
        created_at: row.get(9),
        domains: domains
            .into_iter()
            .zip(verified)
            .zip(tokens)
            .map(|((domain, verified), token)| Domain {
                domain,
                verified,
                token,
            })
            .collect(),
    })
}

/// The clinics of the directory, by slug, filtered.
pub async fn list(control: &Pool, filter: &Filter) -> Result<Vec<Clinic>, TenantError> {
    let client = control.get().await.map_err(pool_error)?;
    let country = filter.country.as_ref().map(CountryCode::as_str);
    let status = filter.status.map(status_str);
    let rows = client
        .query(
            &format!(
                "{CLINIC_SQL} WHERE ($1::text IS NULL OR t.country = $1) \
                 AND ($2::text IS NULL OR t.status = $2) AND ($3::text IS NULL OR t.slug > $3) \
                 ORDER BY t.slug LIMIT $4::int8"
            ),
            &[&country, &status, &filter.after, &filter.limit],
        )
        .await?;
    rows.iter().map(clinic_of).collect()
}

async fn find(client: &impl GenericClient, slug: &TenantSlug) -> Result<Clinic, TenantError> {
    let row = client
        .query_opt(
            &format!("{CLINIC_SQL} WHERE t.slug = $1"),
            &[&slug.as_str()],
        )
        .await?
        .ok_or_else(|| TenantError::UnknownClinic(slug.clone()))?;
    clinic_of(&row)
}

/// A clinic, and what its schema holds when it is homed in this region.
#[derive(Debug, Clone)]
pub struct Details {
    pub clinic: Clinic,
    /// Patients and appointments in its schema; `None` when homed in another region (its
    /// data is there, not here).
    pub counts: Option<Counts>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub patients: i64,
    pub appointments: i64,
}

/// `tenant show SLUG`.
pub async fn show(op: &Operator<'_>, slug: &TenantSlug) -> Result<Details, TenantError> {
    let clinic = find(&op.control.get().await.map_err(pool_error)?, slug).await?;
    let counts = if clinic.home_region == op.region.as_str() {
        let schema = quote_ident(&slug.schema_name());
        let client = op.pool.get().await.map_err(pool_error)?;
        let row = client
            .query_one(
                &format!(
                    "SELECT (SELECT count(*) FROM {schema}.patients), \
                            (SELECT count(*) FROM {schema}.appointments)"
                ),
                &[],
            )
            .await?;
        Some(Counts {
            patients: row.get(0),
            appointments: row.get(1),
        })
    } else {
        None
    };
    Ok(Details { clinic, counts })
}

async fn record(
    tx: &impl GenericClient,
    op: &Operator<'_>,
    action: &str,
    slug: &TenantSlug,
    detail: serde_json::Value,
) -> Result<(), TenantError> {
    tx.execute(
        "INSERT INTO control.operator_events (actor, region, action, slug, detail) \
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &op.actor,
            &op.region.as_str(),
            &action,
            &slug.as_str(),
            &detail,
        ],
    )
    .await?;
    tracing::info!(actor = op.actor, region = %op.region, action, tenant = %slug, %detail, "operator action");
    Ok(())
}

/// What `update` may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Update {
    pub plan: Option<String>,
    pub name: Option<String>,
    pub default_locale: Option<String>,
}

/// `tenant update SLUG [--plan P] [--name N] [--default-locale L]`: validated, then one
/// transaction on the control plane. Returns the clinic as it now is.
pub async fn update(
    op: &Operator<'_>,
    slug: &TenantSlug,
    change: &Update,
) -> Result<Clinic, TenantError> {
    let plan = change
        .plan
        .as_deref()
        .map(|p| {
            let p = p.trim().to_ascii_lowercase();
            PLANS
                .contains(&p.as_str())
                .then_some(p.clone())
                .ok_or(TenantError::BadPlan(p))
        })
        .transpose()?;
    let name = change
        .name
        .as_deref()
        .map(|n| {
            let n = n.trim();
            (!n.is_empty() && n.chars().count() <= 200)
                .then(|| n.to_owned())
                .ok_or(TenantError::BadName)
        })
        .transpose()?;
    let locale = change
        .default_locale
        .as_deref()
        .map(|l| {
            Locale::from_tag(l.trim())
                .map(|l| l.tag().to_owned())
                .ok_or_else(|| TenantError::BadLocale {
                    given: l.to_owned(),
                })
        })
        .transpose()?;
    if plan.is_none() && name.is_none() && locale.is_none() {
        return Err(TenantError::NothingToUpdate);
    }
    let mut client = op.control.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    let before = find(&tx, slug).await?;
    tx.execute(
        "UPDATE control.tenants SET plan = coalesce($2, plan), name = coalesce($3, name), \
         default_locale = coalesce($4, default_locale) WHERE slug = $1",
        &[&slug.as_str(), &plan, &name, &locale],
    )
    .await?;
    let after = find(&tx, slug).await?;
    let mut detail = serde_json::Map::new();
    for (field, old, new) in [
        ("plan", &before.plan, &after.plan),
        ("name", &before.name, &after.name),
        (
            "default_locale",
            &before.default_locale,
            &after.default_locale,
        ),
    ] {
        if old != new {
            detail.insert(field.into(), json!({ "from": old, "to": new }));
        }
    }
    record(&tx, op, "update", slug, detail.into()).await?;
    tx.commit().await?;
    Ok(after)
}

/// `tenant suspend` / `tenant resume`: sets the directory status. Returns the status the
/// clinic had (setting the same status again changes nothing and records nothing).
pub async fn set_status(
    op: &Operator<'_>,
    slug: &TenantSlug,
    status: TenantStatus,
) -> Result<TenantStatus, TenantError> {
    let mut client = op.control.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    let before = find(&tx, slug).await?.status;
    if before != status {
        tx.execute(
            "UPDATE control.tenants SET status = $2 WHERE slug = $1",
            &[&slug.as_str(), &status_str(status)],
        )
        .await?;
        let action = match status {
            TenantStatus::Active => "resume",
            TenantStatus::Suspended => "suspend",
        };
        record(&tx, op, action, slug, json!({})).await?;
    }
    tx.commit().await?;
    Ok(before)
}

/// A domain name a clinic may be served on: lowercase, no port, at least two labels, not
/// an IP address literal.
pub fn parse_domain(d: &str) -> Result<String, TenantError> {
    HostName::parse(d)
        .filter(|h| {
            let s = h.as_str();
            s.contains('.')
                && !s.starts_with('[')
                && !s.contains(':')
                && s.parse::<std::net::Ipv4Addr>().is_err()
        })
        .map(|h| h.as_str().to_owned())
        .ok_or_else(|| TenantError::BadDomain(d.to_owned()))
}

/// A name as a host (lower case, no trailing dot), or as given when it is none.
fn host_of(d: &str) -> String {
    HostName::parse(d.trim()).map_or_else(|| d.to_owned(), |h| h.as_str().to_owned())
}

/// Refuses the platform's apex domain and every name under it (and refuses every domain
/// when the apex is not known: it cannot be checked).
pub fn check_not_apex(domain: &str, apex: Option<&str>) -> Result<(), TenantError> {
    let apex = apex
        .filter(|a| !a.trim().is_empty())
        .ok_or(TenantError::NoApex)?;
    if telemed_shared::ops::under_apex(domain, apex) {
        return Err(TenantError::ApexDomain {
            domain: domain.to_owned(),
            apex: apex.trim().trim_end_matches('.').to_ascii_lowercase(),
        });
    }
    Ok(())
}

/// [`parse_domain`] and [`check_not_apex`] for each of a new clinic's domains
/// (`tenant create --domain`, the operators' API).
pub fn check_domains(domains: &[String], apex: Option<&str>) -> Result<(), TenantError> {
    for d in domains {
        check_not_apex(&host_of(d), apex)?;
        parse_domain(d)?;
    }
    Ok(())
}

/// The TXT record's name for `domain`'s verification.
pub fn challenge_name(domain: &str) -> String {
    format!("{CHALLENGE_LABEL}.{domain}")
}

/// What to publish to verify a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub domain: String,
    pub token: String,
    /// The domain was already pending: its token is unchanged.
    pub existing: bool,
}

impl Pending {
    /// `_telemed-challenge.DOMAIN TXT "<token>"`.
    pub fn record(&self) -> String {
        format!("{} TXT \"{}\"", challenge_name(&self.domain), self.token)
    }
}

/// What `domain_add` found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    Pending(Pending),
    /// The clinic already has this domain, verified: nothing to do.
    AlreadyVerified,
}

/// `tenant domain add SLUG DOMAIN`: a pending domain with a fresh random token (128 bits).
/// Adding a domain that is pending again returns its token unchanged.
pub async fn domain_add(
    op: &Operator<'_>,
    slug: &TenantSlug,
    domain: &str,
) -> Result<Added, TenantError> {
    check_not_apex(&host_of(domain), op.apex)?;
    let domain = parse_domain(domain)?;
    let mut client = op.control.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    find(&tx, slug).await?;
    if let Some(row) = tx
        .query_opt(
            "SELECT slug, verification_token, verified_at IS NOT NULL FROM control.tenant_domains \
             WHERE domain = $1 FOR UPDATE",
            &[&domain],
        )
        .await?
    {
        let owner: String = row.get(0);
        if owner != slug.as_str() {
            return Err(TenantError::DomainTaken { domain, owner });
        }
        if row.get::<_, bool>(2) {
            return Ok(Added::AlreadyVerified);
        }
        let token: String = row.get(1);
        return Ok(Added::Pending(Pending {
            domain,
            token,
            existing: true,
        }));
    }
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|e| Error::Config(format!("randomness: {e}")))?;
    let token = format!("telemed-verify-{}", crate::audit::hex(&raw));
    let inserted = tx
        .execute(
            "INSERT INTO control.tenant_domains (domain, slug, verification_token, verified_at) \
             VALUES ($1, $2, $3, NULL)",
            &[&domain, &slug.as_str(), &token],
        )
        .await;
    if let Err(e) = inserted {
        if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
            return Err(TenantError::DomainTaken {
                domain,
                owner: "another clinic (just now)".into(),
            });
        }
        return Err(e.into());
    }
    record(&tx, op, "domain_add", slug, json!({ "domain": domain })).await?;
    tx.commit().await?;
    Ok(Added::Pending(Pending {
        domain,
        token,
        existing: false,
    }))
}

/// Looks up TXT records. A trait so that tests answer without a network; the real one is
/// [`SystemResolver`].
pub trait TxtResolver {
    /// The TXT records at `name` (each record's character-strings concatenated), or an
    /// empty list when the name or the record does not exist. `Err` only when the lookup
    /// itself failed (timeout, SERVFAIL…).
    fn txt(&self, name: &str) -> impl Future<Output = Result<Vec<String>, String>> + Send;
}

/// The system's resolver (`/etc/resolv.conf`) through `hickory-resolver`: a DNS client in
/// Rust, no external program, and the answers of the recursive resolver the region uses.
pub struct SystemResolver(hickory_resolver::TokioResolver);

impl SystemResolver {
    pub fn from_system_conf() -> Result<Self, TenantError> {
        let builder = hickory_resolver::TokioResolver::builder_tokio()
            .map_err(|e| Error::Config(format!("DNS resolver configuration: {e}")))?;
        let resolver = builder
            .build()
            .map_err(|e| Error::Config(format!("DNS resolver: {e}")))?;
        Ok(SystemResolver(resolver))
    }
}

impl TxtResolver for SystemResolver {
    async fn txt(&self, name: &str) -> Result<Vec<String>, String> {
        // Fully qualified: no search domain of resolv.conf is appended.
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match self.0.txt_lookup(fqdn.as_str()).await {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|r| match &r.data {
                    hickory_resolver::proto::rr::RData::TXT(txt) => Some(
                        txt.txt_data
                            .iter()
                            .map(|part| String::from_utf8_lossy(part).into_owned())
                            .collect::<String>(),
                    ),
                    _ => None,
                })
                .collect()),
            Err(e) if e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// What `domain_verify` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// Marked verified now: it routes (within the directory caches' lifetime).
    Now,
    /// It was verified before: nothing changed.
    Already,
}

/// `tenant domain verify SLUG DOMAIN`: marks the domain verified only if a TXT record at
/// `_telemed-challenge.DOMAIN` holds its token.
pub async fn domain_verify(
    op: &Operator<'_>,
    slug: &TenantSlug,
    domain: &str,
    resolver: &impl TxtResolver,
) -> Result<Verified, TenantError> {
    let domain = parse_domain(domain)?;
    let token = {
        let client = op.control.get().await.map_err(pool_error)?;
        find(&client, slug).await?;
        let row = client
            .query_opt(
                "SELECT verification_token, verified_at IS NOT NULL FROM control.tenant_domains \
                 WHERE domain = $1 AND slug = $2",
                &[&domain, &slug.as_str()],
            )
            .await?
            .ok_or_else(|| TenantError::UnknownDomain {
                slug: slug.clone(),
                domain: domain.clone(),
            })?;
        if row.get::<_, bool>(1) {
            return Ok(Verified::Already);
        }
        row.get::<_, String>(0)
    };
    let name = challenge_name(&domain);
    let found = resolver
        .txt(&name)
        .await
        .map_err(|message| TenantError::Dns {
            name: name.clone(),
            message,
        })?;
    if !found.iter().any(|t| t.trim() == token) {
        return Err(TenantError::NotVerified {
            domain,
            record: name,
            token,
            found,
        });
    }
    let mut client = op.control.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    // Only the token just checked: a remove and re-add meanwhile has a new one.
    let n = tx
        .execute(
            "UPDATE control.tenant_domains SET verified_at = now() \
             WHERE domain = $1 AND slug = $2 AND verification_token = $3 AND verified_at IS NULL",
            &[&domain, &slug.as_str(), &token],
        )
        .await?;
    if n == 0 {
        return Err(TenantError::UnknownDomain {
            slug: slug.clone(),
            domain,
        });
    }
    record(&tx, op, "domain_verify", slug, json!({ "domain": domain })).await?;
    tx.commit().await?;
    Ok(Verified::Now)
}

/// `tenant domain remove SLUG DOMAIN`, pending or verified.
pub async fn domain_remove(
    op: &Operator<'_>,
    slug: &TenantSlug,
    domain: &str,
) -> Result<(), TenantError> {
    let domain = parse_domain(domain)?;
    let mut client = op.control.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    find(&tx, slug).await?;
    let n = tx
        .execute(
            "DELETE FROM control.tenant_domains WHERE domain = $1 AND slug = $2",
            &[&domain, &slug.as_str()],
        )
        .await?;
    if n == 0 {
        return Err(TenantError::UnknownDomain {
            slug: slug.clone(),
            domain,
        });
    }
    record(&tx, op, "domain_remove", slug, json!({ "domain": domain })).await?;
    tx.commit().await?;
    Ok(())
}

/// What `delete` did.
#[derive(Debug, Clone)]
pub struct Deleted {
    /// Where the export was written.
    pub export_dir: PathBuf,
    /// Rows exported, by table.
    pub tables: BTreeMap<String, u64>,
}

/// Rows fetched from the export cursor at a time: memory stays bounded on a large clinic.
const EXPORT_BATCH: i64 = 1000;

/// `tenant delete SLUG --export DIR`: in the clinic's home region only (else
/// [`Error::WrongRegion`], naming it), of a suspended clinic only, refused while a legal
/// hold stands.
///
/// 1. Every table of the schema is locked against writes and written to `DIR/<table>.jsonl`
///    (one JSON object per row, as stored: sealed identifiers stay sealed, and
///    `data_keys.jsonl` holds the data key wrapped by this region's master key), then
///    `DIR/manifest.json` (the directory entry, row counts); every file is synced to disk.
/// 2. The schema is dropped (with its data key) in that same transaction, which commits
///    only after the directory entry and its domains are deleted from the control plane
///    (replicated to every region). A failure before that commit deletes nothing.
pub async fn delete(
    op: &Operator<'_>,
    slug: &TenantSlug,
    export_dir: &Path,
) -> Result<Deleted, TenantError> {
    let clinic = find(&op.control.get().await.map_err(pool_error)?, slug).await?;
    if clinic.home_region != op.region.as_str() {
        return Err(Error::WrongRegion {
            slug: slug.to_string(),
            home: clinic
                .home_region
                .parse()
                .map_err(|e| Error::Config(format!("{e}")))?,
            this: op.region.clone(),
        }
        .into());
    }
    if clinic.status != TenantStatus::Suspended {
        return Err(TenantError::NotSuspended(slug.clone()));
    }
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| TenantError::Export { path, source }
    };
    std::fs::create_dir_all(export_dir).map_err(io(export_dir))?;
    if std::fs::read_dir(export_dir)
        .map_err(io(export_dir))?
        .next()
        .is_some()
    {
        return Err(TenantError::ExportDirNotEmpty(export_dir.to_owned()));
    }

    let schema_name = slug.schema_name();
    let schema = quote_ident(&schema_name);
    let mut client = op.pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    let tables: Vec<String> = tx
        .query(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename",
            &[&schema_name],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if tables.is_empty() {
        return Err(Error::Config(format!(
            "clinic {slug} is registered as homed in {} but schema {schema} is missing from this database",
            op.region
        ))
        .into());
    }
    let holds: i64 = tx
        .query_one(&format!("SELECT count(*) FROM {schema}.legal_holds"), &[])
        .await?
        .get(0);
    if holds > 0 {
        return Err(TenantError::LegalHolds {
            slug: slug.clone(),
            count: holds,
        });
    }
    let qualified: Vec<String> = tables
        .iter()
        .map(|t| format!("{schema}.{}", quote_ident(t)))
        .collect();
    // Writers wait (readers do not) until the schema is gone: the export is the last state.
    tx.batch_execute(&format!(
        "LOCK TABLE {} IN EXCLUSIVE MODE",
        qualified.join(", ")
    ))
    .await?;

    let mut counts = BTreeMap::new();
    for (table, q) in tables.iter().zip(&qualified) {
        let path = export_dir.join(format!("{table}.jsonl"));
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io(&path))?);
        tx.batch_execute(&format!(
            "DECLARE export_rows NO SCROLL CURSOR FOR SELECT row_to_json(t)::text FROM {q} t"
        ))
        .await?;
        let mut n = 0u64;
        loop {
            let rows = tx
                .query(&format!("FETCH {EXPORT_BATCH} FROM export_rows"), &[])
                .await?;
            for r in &rows {
                writeln!(file, "{}", r.get::<_, String>(0)).map_err(io(&path))?;
            }
            n += rows.len() as u64;
            if (rows.len() as i64) < EXPORT_BATCH {
                break;
            }
        }
        tx.batch_execute("CLOSE export_rows").await?;
        let file = file.into_inner().map_err(|e| io(&path)(e.into_error()))?;
        file.sync_all().map_err(io(&path))?;
        counts.insert(table.clone(), n);
    }
    let manifest = json!({
        "clinic": {
            "slug": clinic.slug.as_str(), "name": clinic.name, "country": clinic.country,
            "home_region": clinic.home_region, "default_locale": clinic.default_locale,
            "currency": clinic.currency, "plan": clinic.plan, "status": status_str(clinic.status),
            "created_at": clinic.created_at,
            "domains": clinic.domains.iter().map(|d| json!({"domain": d.domain, "verified": d.verified})).collect::<Vec<_>>(),
        },
        "schema": schema_name,
        "schema_version": clinic.schema_version,
        "exported_by": op.actor,
        "exported_in": op.region.as_str(),
        "exported_at": chrono::Utc::now().to_rfc3339(),
        "format": "one JSON object per row (row_to_json) per <table>.jsonl; sealed columns as stored, data_keys wrapped by the region's master key",
        "tables": counts,
    });
    let path = export_dir.join("manifest.json");
    let text = serde_json::to_vec_pretty(&manifest).expect("a JSON value serialises");
    std::fs::File::create(&path)
        .and_then(|mut f| {
            f.write_all(&text)?;
            f.sync_all()
        })
        .map_err(io(&path))?;
    if let Ok(dir) = std::fs::File::open(export_dir) {
        let _ = dir.sync_all();
    }

    tx.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await?;
    let detail = json!({ "export": export_dir.display().to_string(), "rows": counts });
    if op.control_is_local {
        unregister(&tx, op, slug, detail).await?;
        tx.commit().await?;
    } else {
        let mut control = op.control.get().await.map_err(pool_error)?;
        let ctx = control.transaction().await?;
        unregister(&ctx, op, slug, detail).await?;
        ctx.commit().await?;
        if let Err(e) = tx.commit().await {
            tracing::error!(tenant = %slug, error = %e, "directory entry removed but the schema's drop failed: drop it by hand");
            return Err(e.into());
        }
    }
    Ok(Deleted {
        export_dir: export_dir.to_owned(),
        tables: counts,
    })
}

async fn unregister(
    tx: &impl GenericClient,
    op: &Operator<'_>,
    slug: &TenantSlug,
    detail: serde_json::Value,
) -> Result<(), TenantError> {
    tx.execute(
        "DELETE FROM control.tenant_domains WHERE slug = $1",
        &[&slug.as_str()],
    )
    .await?;
    tx.execute(
        "DELETE FROM control.tenants WHERE slug = $1",
        &[&slug.as_str()],
    )
    .await?;
    record(tx, op, "delete", slug, detail).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_host_names_with_a_dot_and_no_address() {
        assert_eq!(
            parse_domain("WWW.Clinique.Example.").unwrap(),
            "www.clinique.example"
        );
        for bad in ["localhost", "10.0.0.1", "[::1]", "not a domain", ""] {
            assert!(parse_domain(bad).is_err(), "{bad}");
        }
        assert_eq!(
            challenge_name("www.clinique.example"),
            "_telemed-challenge.www.clinique.example"
        );
    }

    #[test]
    fn statuses_parse_and_print() {
        assert_eq!(parse_status("Suspended"), Ok(TenantStatus::Suspended));
        assert!(parse_status("deleted").is_err());
        assert_eq!(status_str(TenantStatus::Active), "active");
    }

    #[test]
    fn errors_name_the_allowed_values() {
        let e = TenantError::BadPlan("gold".into()).to_string();
        assert!(e.contains("basic, standard, premium"), "{e}");
        let e = TenantError::BadLocale { given: "de".into() }.to_string();
        assert!(e.contains("fr") && e.contains("ar"), "{e}");
    }
}
