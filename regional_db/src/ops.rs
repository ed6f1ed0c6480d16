//! `POST /v1/ops`: an operator's request ([`telemed_shared::ops::wire`]), run on the
//! operator connection (`OPERATOR_DATABASE_URL`: the schemas' owner, who alone may create
//! and drop a clinic's schema and write the directory) with the code of the CLI
//! ([`crate::tenants`], [`crate::provision`]): one rule for the console, the API and the
//! shell.
//!
//! Where: directory changes on the control plane's region; `create` and `delete` in the
//! clinic's home region, which the control plane's region forwards them to once
//! ([`Step::Forward`]): the home region creates (or exports, then drops) the schema and
//! writes (or removes) the directory entry on the control plane's primary itself.
//!
//! Every request first checks, on the control plane, that its operator is still enabled,
//! and is recorded in `control.operator_events` (actor `operator:<email>`): a change by
//! the code that makes it (in its transaction), a read or a refusal here.

use std::{path::PathBuf, sync::Arc};

use deadpool_postgres::Pool;
use serde_json::json;
use telemed_shared::{
    geo::RegionId,
    ops::wire::{
        Challenge, ClinicView, DEFAULT_PAGE, DomainView, Export, MAX_PAGE, OpsAnswer, OpsRefusal,
        OpsRequest, OpsResult,
    },
    tenant::{TenantSlug, TenantStatus},
};

use telemed_shared::dataplane::wire::RegionError;

use crate::{
    Error, error, operators, provision,
    tenants::{self, Added, Operator, TenantError, TxtResolver, Verified},
};

/// A TXT look-up a test (or another resolver) can stand in for the system's.
pub type TxtLookup = Arc<
    dyn Fn(
            String,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<Vec<String>, String>> + Send>,
        > + Send
        + Sync,
>;

/// What an instance needs to serve operators: the operator connection's pools and where
/// deletions' exports go.
#[derive(Clone)]
pub struct OpsState {
    /// This region's primary, as the schemas' owner.
    pub pool: Pool,
    /// The control plane's primary, as its owner.
    pub control: Pool,
    pub control_is_local: bool,
    /// A deletion's export goes to `<export_dir>/<slug>-<UTC time>/`. `None`: deletions
    /// are refused here.
    pub export_dir: Option<PathBuf>,
    /// TXT look-ups of domain verification; the system's resolver when `None`.
    pub txt: Option<TxtLookup>,
}

/// What the region does with a request.
pub enum Step {
    Answer(OpsAnswer),
    /// Only the clinic's home region can do it.
    Forward(RegionId),
}

struct Lookup<'a>(&'a TxtLookup);

impl TxtResolver for Lookup<'_> {
    fn txt(
        &self,
        name: &str,
    ) -> impl std::future::Future<Output = Result<Vec<String>, String>> + Send {
        (self.0)(name.to_owned())
    }
}

fn refuse(status: u16, code: &str, detail: impl Into<String>) -> Step {
    Step::Answer(OpsAnswer::Refused(OpsRefusal::new(status, code, detail)))
}

fn ok(result: OpsResult) -> Step {
    Step::Answer(OpsAnswer::Ok(Box::new(result)))
}

/// A clinic as the wire shows it, pending domains with their TXT record.
pub fn view(c: &tenants::Clinic) -> ClinicView {
    ClinicView {
        slug: c.slug.to_string(),
        name: c.name.clone(),
        country: c.country.clone(),
        home_region: c.home_region.clone(),
        default_locale: c.default_locale.clone(),
        currency: c.currency.clone(),
        plan: c.plan.clone(),
        status: tenants::status_str(c.status).to_owned(),
        created_at: c.created_at.clone(),
        domains: c
            .domains
            .iter()
            .map(|d| DomainView {
                domain: d.domain.clone(),
                verified: d.verified,
                challenge: d
                    .token
                    .as_ref()
                    .filter(|_| !d.verified)
                    .map(|t| challenge(&d.domain, t)),
            })
            .collect(),
    }
}

fn challenge(domain: &str, token: &str) -> Challenge {
    Challenge {
        name: tenants::challenge_name(domain),
        kind: "TXT".into(),
        value: token.to_owned(),
    }
}

/// The refusal an operator reads for a clinic-management error; `Err` for faults.
fn refusal(e: TenantError) -> Result<Step, Error> {
    use TenantError as T;
    Ok(match e {
        T::UnknownClinic(_) => refuse(404, "unknown_clinic", e.to_string()),
        T::UnknownDomain { .. } => refuse(404, "unknown_domain", e.to_string()),
        T::DomainTaken { .. } => refuse(409, "domain_taken", e.to_string()),
        T::BadDomain(_) => refuse(400, "bad_domain", e.to_string()),
        T::ApexDomain { .. } => refuse(400, "apex_domain", e.to_string()),
        T::NotVerified { .. } => refuse(409, "domain_not_verified", e.to_string()),
        T::Dns { .. } => refuse(502, "dns_failed", e.to_string()),
        T::BadPlan(_) => refuse(400, "bad_plan", e.to_string()),
        T::BadLocale { .. } => refuse(400, "bad_request", e.to_string()),
        T::BadName => refuse(400, "bad_name", e.to_string()),
        T::NothingToUpdate => refuse(
            400,
            "nothing_to_update",
            "nothing to update: give plan or name",
        ),
        T::LegalHolds { .. } => refuse(409, "legal_holds", e.to_string()),
        T::NotSuspended(ref slug) => refuse(
            409,
            "not_suspended",
            format!(
                "clinic {slug} is active: suspend it first, wait for the edges' directory caches ({} s), then delete it",
                telemed_shared::cache::DIRECTORY_TTL_SECS
            ),
        ),
        T::Region(Error::Slug(s)) => {
            refuse(400, "bad_request", format!("invalid clinic slug: {s}"))
        }
        T::NoApex => return Err(Error::Config(e.to_string())),
        T::Region(inner) => return Err(inner),
        other => return Err(Error::Config(other.to_string())),
    })
}

/// Runs `request` of `operator` here (`region`); `forwarded` when another region sent it.
pub async fn run(
    ops: &OpsState,
    region: &RegionId,
    operator: &str,
    edge: Option<&str>,
    request: &OpsRequest,
) -> Result<Step, RegionError> {
    let actor = format!("operator:{operator}");
    // No connection is held while the operation runs (it takes its own).
    let enabled = {
        let control = ops.control.get().await.map_err(|e| error::from_pool(&e))?;
        operators::ensure_enabled(&control, operator).await?
    };
    if !enabled {
        return Ok(refuse(
            403,
            "operator_disabled",
            format!("operator {operator} is disabled or unknown: ask another operator"),
        ));
    }
    let op = Operator {
        region,
        pool: &ops.pool,
        control: &ops.control,
        control_is_local: ops.control_is_local,
        actor: &actor,
        apex: None,
    };
    let step = step(ops, &op, request).await.map_err(wire_error)?;
    // Changes are recorded by the code that makes them, with the change; reads and
    // refusals here.
    let detail = match &step {
        Step::Answer(OpsAnswer::Refused(r)) => Some(json!({ "refused": r.code, "edge": edge })),
        Step::Answer(OpsAnswer::Ok(_))
            if matches!(request, OpsRequest::List { .. } | OpsRequest::Show { .. }) =>
        {
            Some(json!({ "edge": edge }))
        }
        _ => None,
    };
    if let Some(detail) = detail {
        let slug = slug_of(request)
            .and_then(|s| s.parse::<TenantSlug>().ok())
            .map(|s| s.to_string());
        let control = ops.control.get().await.map_err(|e| error::from_pool(&e))?;
        operators::record(
            &control,
            &actor,
            region.as_str(),
            request.name(),
            slug.as_deref(),
            detail,
        )
        .await
        .map_err(|e| error::from_postgres(&e))?;
    }
    Ok(step)
}

/// A fault of an operation, as the edge is told: details logged, never sent.
fn wire_error(e: Error) -> RegionError {
    match e {
        Error::Postgres(pg) => error::from_postgres(&pg),
        other => {
            tracing::error!(error = %other, "operator request");
            error::internal()
        }
    }
}

fn slug_of(r: &OpsRequest) -> Option<&str> {
    match r {
        OpsRequest::List { .. } => None,
        OpsRequest::Show { slug }
        | OpsRequest::Create { slug, .. }
        | OpsRequest::Update { slug, .. }
        | OpsRequest::Suspend { slug }
        | OpsRequest::Resume { slug }
        | OpsRequest::DomainAdd { slug, .. }
        | OpsRequest::DomainVerify { slug, .. }
        | OpsRequest::DomainRemove { slug, .. }
        | OpsRequest::Delete { slug, .. } => Some(slug),
    }
}

async fn step(ops: &OpsState, op: &Operator<'_>, request: &OpsRequest) -> Result<Step, Error> {
    let parse_slug = |s: &str| s.trim().parse::<TenantSlug>();
    macro_rules! slug {
        ($s:expr) => {
            match parse_slug($s) {
                Ok(s) => s,
                Err(e) => {
                    return Ok(refuse(
                        400,
                        "bad_request",
                        format!("invalid clinic slug: {e}"),
                    ))
                }
            }
        };
    }
    macro_rules! tenant {
        ($e:expr) => {
            match $e.await {
                Ok(v) => v,
                Err(e) => return refusal(e),
            }
        };
    }
    let clinic = |slug: &TenantSlug| {
        let slug = slug.clone();
        async move { tenants::show(op, &slug).await.map(|d| d.clinic) }
    };
    Ok(match request {
        OpsRequest::List {
            status,
            after,
            limit,
        } => {
            let status = match status.as_deref().map(tenants::parse_status).transpose() {
                Ok(s) => s,
                Err(m) => return Ok(refuse(400, "bad_request", m)),
            };
            let limit = limit.unwrap_or(DEFAULT_PAGE);
            if !(1..=MAX_PAGE).contains(&limit) {
                return Ok(refuse(
                    400,
                    "bad_request",
                    format!("limit is 1 to {MAX_PAGE}"),
                ));
            }
            let filter = tenants::Filter {
                status,
                after: after.clone(),
                // One more than asked: whether a next page exists.
                limit: Some(i64::from(limit) + 1),
                ..Default::default()
            };
            let mut clinics = tenant!(tenants::list(op.control, &filter));
            let next = if clinics.len() > limit as usize {
                clinics.truncate(limit as usize);
                clinics.last().map(|c| c.slug.to_string())
            } else {
                None
            };
            ok(OpsResult::Clinics {
                clinics: clinics.iter().map(view).collect(),
                next,
            })
        }
        OpsRequest::Show { slug } => {
            let slug = slug!(slug);
            let c = tenant!(clinic(&slug));
            ok(OpsResult::Clinic {
                clinic: view(&c),
                changed: false,
            })
        }
        OpsRequest::Create {
            slug,
            name,
            country,
            region,
            domains,
            currency,
            apex,
        } => {
            if let Err(e) = tenants::check_domains(domains, Some(apex)) {
                return refusal(e);
            }
            let req = provision::NewTenant {
                slug: slug.clone(),
                name: name.clone(),
                country: country.clone(),
                region: region.clone(),
                domains: domains.clone(),
                currency: currency.clone(),
            };
            let target = provision::Target {
                region: op.region,
                pool: op.pool,
                control: op.control,
                control_is_local: op.control_is_local,
            };
            match provision::create(&req, &target).await {
                Ok(entry) => {
                    let mut control = op.control.get().await.map_err(crate::migrate::pool_error)?;
                    let tx = control.transaction().await?;
                    operators::record(
                        &tx,
                        op.actor,
                        op.region.as_str(),
                        "create",
                        Some(entry.slug.as_str()),
                        json!({ "country": entry.country.as_str(), "home_region": entry.home_region.as_str(), "domains": entry.domains }),
                    )
                    .await?;
                    tx.commit().await?;
                    let c = tenant!(clinic(&entry.slug));
                    ok(OpsResult::Clinic {
                        clinic: view(&c),
                        changed: true,
                    })
                }
                Err(Error::WrongRegion { home, .. }) => Step::Forward(home),
                Err(e @ Error::AlreadyExists(_)) => refuse(409, "already_exists", e.to_string()),
                Err(
                    e @ (Error::Slug(_)
                    | Error::Country(_)
                    | Error::UnknownRegion { .. }
                    | Error::Residency { .. }
                    | Error::Config(_)),
                ) => refuse(400, "bad_request", e.to_string()),
                Err(e) => return Err(e),
            }
        }
        OpsRequest::Update { slug, plan, name } => {
            let slug = slug!(slug);
            let change = tenants::Update {
                plan: plan.clone(),
                name: name.clone(),
                default_locale: None,
            };
            let c = tenant!(tenants::update(op, &slug, &change));
            ok(OpsResult::Clinic {
                clinic: view(&c),
                changed: true,
            })
        }
        OpsRequest::Suspend { slug } | OpsRequest::Resume { slug } => {
            let slug = slug!(slug);
            let to = if matches!(request, OpsRequest::Suspend { .. }) {
                TenantStatus::Suspended
            } else {
                TenantStatus::Active
            };
            let before = tenant!(tenants::set_status(op, &slug, to));
            let c = tenant!(clinic(&slug));
            ok(OpsResult::Clinic {
                clinic: view(&c),
                changed: before != to,
            })
        }
        OpsRequest::DomainAdd { slug, domain, apex } => {
            let slug = slug!(slug);
            let op = Operator {
                apex: Some(apex),
                ..*op
            };
            let added = tenant!(tenants::domain_add(&op, &slug, domain));
            let c = tenant!(clinic(&slug));
            match added {
                Added::AlreadyVerified => ok(OpsResult::Domain {
                    clinic: view(&c),
                    domain: tenants::parse_domain(domain).unwrap_or_else(|_| domain.clone()),
                    verified: true,
                    challenge: None,
                    changed: false,
                }),
                Added::Pending(p) => ok(OpsResult::Domain {
                    clinic: view(&c),
                    challenge: Some(challenge(&p.domain, &p.token)),
                    domain: p.domain,
                    verified: false,
                    changed: !p.existing,
                }),
            }
        }
        OpsRequest::DomainVerify { slug, domain } => {
            let slug = slug!(slug);
            let done = match &ops.txt {
                Some(lookup) => tenant!(tenants::domain_verify(op, &slug, domain, &Lookup(lookup))),
                None => {
                    let resolver = match tenants::SystemResolver::from_system_conf() {
                        Ok(r) => r,
                        Err(e) => return Ok(refuse(503, "dns_failed", e.to_string())),
                    };
                    tenant!(tenants::domain_verify(op, &slug, domain, &resolver))
                }
            };
            let c = tenant!(clinic(&slug));
            ok(OpsResult::Domain {
                clinic: view(&c),
                domain: tenants::parse_domain(domain).unwrap_or_else(|_| domain.clone()),
                verified: true,
                challenge: None,
                changed: done == Verified::Now,
            })
        }
        OpsRequest::DomainRemove { slug, domain } => {
            let slug = slug!(slug);
            tenant!(tenants::domain_remove(op, &slug, domain));
            let c = tenant!(clinic(&slug));
            ok(OpsResult::Clinic {
                clinic: view(&c),
                changed: true,
            })
        }
        OpsRequest::Delete { slug, confirm } => {
            let slug = slug!(slug);
            if confirm.trim() != slug.as_str() {
                return Ok(refuse(
                    400,
                    "confirmation_mismatch",
                    format!("confirm must repeat the slug {slug}: nothing was deleted"),
                ));
            }
            let Some(base) = &ops.export_dir else {
                return Ok(refuse(
                    503,
                    "export_not_configured",
                    format!(
                        "{} has no OPERATOR_EXPORT_DIR: a clinic is never deleted without its export",
                        op.region
                    ),
                ));
            };
            let dir = base.join(format!(
                "{slug}-{}",
                chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ")
            ));
            let home = tenants::show(op, &slug).await;
            match home {
                Ok(d) if d.clinic.home_region != op.region.as_str() => {
                    match d.clinic.home_region.parse::<RegionId>() {
                        Ok(home) => return Ok(Step::Forward(home)),
                        Err(e) => return Err(Error::Config(format!("{e}"))),
                    }
                }
                Ok(_) => {}
                Err(e) => return refusal(e),
            }
            let done = tenant!(tenants::delete(op, &slug, &dir));
            ok(OpsResult::Deleted {
                slug: slug.to_string(),
                home_region: op.region.to_string(),
                export: Export {
                    directory: done.export_dir.display().to_string(),
                    rows: done.tables.values().sum(),
                    tables: done.tables,
                },
            })
        }
    })
}
