//! The `regional-db` binary: `serve`, `migrate`, `tenant create|list|show|update|suspend|
//! resume|domain|delete`, `accounts create`, `keys rotate`, `audit verify`, `jobs run`, `holds`,
//! `webhooks add`, `apps add|list|show|approve|reject|rotate-secret`, `operators create|disable`.
//! Every flag can also come from the environment, as a
//! deployment sets it.
#![forbid(unsafe_code)]

use std::{net::SocketAddr, time::Duration};

use anyhow::{Context, Result};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, parser::ValueSource};
use regional_db::{
    Config, accounts, apps, db,
    jobs::{holds, retention, webhooks},
    migrate, provision, server, tenants, vault,
};
use telemed_shared::{auth::VerifyingKeys, geo::RegionId};

#[derive(Parser)]
#[command(name = "regional-db", about = "Telemed Edge regional service", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the edge→region protocol. Connect as a member of `telemed_service`
    /// (regional_db/src/grants.rs), never as a superuser, whose writes no grant limits.
    Serve(ServeArgs),
    /// Bring the control schema (if it is in this region's database) and every clinic
    /// schema homed here up to date, with the service role's grants. Idempotent. Run as
    /// the schemas' owner (an administrator), as `tenant create` and `audit verify`.
    Migrate(DbArgs),
    /// Manage clinics.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// People's accounts of a clinic (password sign-in to its pages).
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Encryption at rest: the clinics' data keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check clinics' audit trails.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Run one of the region's jobs once.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Legal holds: patients whose data no purge or erasure may touch.
    #[command(subcommand)]
    Holds(HoldsCommand),
    /// A clinic's webhook endpoints.
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// The marketplace: third-party apps, their review and their OAuth clients (control plane).
    #[command(subcommand)]
    Apps(AppsCommand),
    /// The platform's operators (super-admins of the control plane), apart from every
    /// clinic's accounts. Run against the control plane's database.
    #[command(subcommand)]
    Operators(OperatorsCommand),
}

#[derive(Subcommand)]
enum OperatorsCommand {
    /// Create an operator. The password is read from OPERATOR_PASSWORD, else from the
    /// first line of standard input — never from the command line. 12 to 256 characters.
    Create(OperatorCreateArgs),
    /// Disable an operator: no sign-in, and the credentials they hold are refused at their
    /// next request.
    Disable(OperatorArgs),
}

#[derive(Args)]
struct OperatorCreateArgs {
    #[arg(long)]
    email: String,
    /// The name shown in the console (defaults to the email).
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    actor: ActorArgs,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args)]
struct OperatorArgs {
    #[arg(long)]
    email: String,
    #[command(flatten)]
    actor: ActorArgs,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Subcommand)]
enum AppsCommand {
    /// Register an app (status pending) and its OAuth client from a JSON spec. Prints one JSON
    /// object: app_id, slug, client_id, and the secrets shown this once (client_secret for
    /// client_secret_basic, webhook_secret when the app has a webhook_url).
    Add(AppsAddArgs),
    /// List apps (JSON, one per line).
    List(AppsListArgs),
    /// One app (JSON), without its secrets.
    Show(AppSlugArgs),
    /// Approve an app: clinics may install it.
    Approve(AppReviewArgs),
    /// Reject an app, saying why (--note).
    Reject(AppReviewArgs),
    /// A new client secret (client_secret_basic apps), printed once; the old one stops working.
    RotateSecret(AppSlugArgs),
}

#[derive(Args)]
struct AppsAddArgs {
    /// The app's spec (see regional_db/src/apps.rs and telemed_shared::apps::AppSpec).
    #[arg(long)]
    file: std::path::PathBuf,
    #[command(flatten)]
    actor: ActorArgs,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args)]
struct AppsListArgs {
    /// Only apps of this status: pending, approved or rejected.
    #[arg(long)]
    status: Option<String>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args)]
struct AppSlugArgs {
    slug: String,
    #[command(flatten)]
    actor: ActorArgs,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args)]
struct AppReviewArgs {
    slug: String,
    /// What the reviewer says (required to reject).
    #[arg(long)]
    note: Option<String>,
    #[command(flatten)]
    actor: ActorArgs,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Subcommand)]
enum WebhooksCommand {
    /// Add an endpoint to a clinic; prints its `whsec_` secret, once (it is stored sealed
    /// and nothing reads it back).
    Add(AddEndpointArgs),
}

#[derive(Args)]
struct AddEndpointArgs {
    /// The clinic's slug (homed in this region).
    #[arg(long)]
    tenant: String,
    /// Where deliveries are POSTed.
    #[arg(long)]
    url: String,
    /// Event types subscribed to, comma-separated (appointment.booked,
    /// appointment.cancelled, observation.created, patient.created).
    #[arg(long, value_delimiter = ',', required = true)]
    events: Vec<String>,
    #[arg(long)]
    description: Option<String>,
    /// Accept an http URL, or one on a loopback or private address: for a local stack
    /// only (otherwise https on public addresses only).
    #[arg(long, env = "ALLOW_LOCAL_URLS")]
    allow_local_urls: bool,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    keys: MasterKeyArgs,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Re-wrap every data key of the clinics homed here under the current (first) master
    /// key. Data stays readable throughout; rerun it after an interruption. Once it reports
    /// nothing left, the old master key can be dropped from MASTER_KEYS.
    Rotate(KeysArgs),
}

#[derive(Args)]
struct KeysArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    keys: MasterKeyArgs,
}

/// The region's master keys.
#[derive(Args)]
struct MasterKeyArgs {
    /// `id:base64,…` (32-byte keys), the current one first: it wraps each clinic's data
    /// key. From the region's secret store; never in a file of the repository.
    #[arg(long, env = "MASTER_KEYS", hide_env_values = true)]
    master_keys: String,
}

impl MasterKeyArgs {
    fn parse(&self) -> Result<vault::MasterKeys> {
        Ok(vault::MasterKeys::parse(&self.master_keys)?)
    }
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk a clinic's hash chain: exits non-zero naming the first modified or removed
    /// record. Prints the chain's head (`SEQ:HASH`), to anchor outside this database.
    Verify(VerifyArgs),
}

#[derive(Args)]
struct VerifyArgs {
    /// The clinic's slug (homed in this region's database).
    #[arg(long)]
    tenant: String,
    /// A head printed by an earlier run (`SEQ:HASH`): that record must still be there with
    /// that hash (catches a rewritten or truncated tail, which the chain alone cannot).
    #[arg(long)]
    anchor: Option<String>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Run a job once.
    #[command(subcommand)]
    Run(Job),
}

#[derive(Subcommand)]
enum Job {
    /// Purge the medical records past their country's period.
    Retention(JobArgs),
    /// Fetch the euro reference rates and store them, dated, on the control plane.
    Rates(RatesArgs),
    /// Send the webhook deliveries that are due, once.
    Webhooks(WebhooksJobArgs),
}

#[derive(Args)]
struct WebhooksJobArgs {
    /// One clinic, by slug.
    #[arg(long, conflicts_with = "all", required_unless_present = "all")]
    tenant: Option<String>,
    /// Every clinic homed in this region.
    #[arg(long)]
    all: bool,
    /// Send to http URLs and to loopback or private addresses too: for a local stack only.
    #[arg(long, env = "ALLOW_LOCAL_URLS")]
    allow_local_urls: bool,
    /// How long a receiver has to answer (tests shorten it; default 15).
    #[arg(long, hide = true, value_parser = clap::value_parser!(u64).range(1..))]
    timeout_seconds: Option<u64>,
    /// How long a claim is held before another run may take it again (tests shorten it;
    /// default 120; longer than the timeout).
    #[arg(long, hide = true, value_parser = clap::value_parser!(u64).range(1..))]
    lease_seconds: Option<u64>,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    keys: MasterKeyArgs,
}

#[derive(Args)]
struct RatesArgs {
    /// A feed in the ECB's `eurofxref-daily.xml` format.
    #[arg(long, env = "RATES_FEED_URL", default_value = regional_db::jobs::rates::ECB_DAILY)]
    feed: String,
    /// Today's date (YYYY-MM-DD), instead of the clock: rates dated after it are refused.
    #[arg(long)]
    today: Option<chrono::NaiveDate>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args)]
struct JobArgs {
    /// One clinic, by slug.
    #[arg(long, conflicts_with = "all", required_unless_present = "all")]
    tenant: Option<String>,
    /// Every clinic homed in this region.
    #[arg(long)]
    all: bool,
    /// Report what would be done; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// The instant periods are measured against (RFC 3339), instead of the clock: for tests.
    #[arg(long)]
    now: Option<String>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Subcommand)]
enum HoldsCommand {
    /// Place a legal hold on a patient.
    Place(HoldArgs),
    /// Lift a patient's legal hold.
    Lift(HoldArgs),
    /// List a clinic's legal holds.
    List(HoldListArgs),
}

#[derive(Args)]
struct HoldArgs {
    #[arg(long)]
    tenant: String,
    /// The patient's id.
    #[arg(long)]
    patient: uuid::Uuid,
    /// Why (required to place a hold).
    #[arg(long, default_value = "")]
    reason: String,
    /// Who places or lifts it, for the audit trail.
    #[arg(long, env = "USER", default_value = "operator")]
    by: String,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args)]
struct HoldListArgs {
    #[arg(long)]
    tenant: String,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Subcommand)]
enum AccountsCommand {
    /// Create an account of a clinic homed here (e.g. its first admin). The password is
    /// read from ACCOUNT_PASSWORD, else from the first line of standard input — never from
    /// the command line, which other users of the machine can read. 12 to 256 characters.
    Create(AccountCreateArgs),
}

#[derive(Args)]
struct AccountCreateArgs {
    /// The clinic's slug.
    #[arg(long)]
    tenant: String,
    /// `admin`, `practitioner` or `patient`.
    #[arg(long, value_parser = parse_role)]
    role: telemed_shared::accounts::Role,
    #[arg(long)]
    email: String,
    /// The name shown to the person and in the clinic's account list.
    #[arg(long)]
    name: String,
    /// The Practitioner id of a practitioner's account.
    #[arg(long)]
    practitioner: Option<uuid::Uuid>,
    /// The Patient id of a patient's account.
    #[arg(long)]
    patient: Option<uuid::Uuid>,
    /// Who creates it, for the audit trail.
    #[arg(long, env = "USER", default_value = "operator")]
    by: String,
    #[command(flatten)]
    db: DbArgs,
}

fn parse_role(s: &str) -> Result<telemed_shared::accounts::Role, String> {
    telemed_shared::accounts::Role::parse(s)
        .ok_or_else(|| format!("{s:?} is not a role: admin, practitioner or patient"))
}

/// A new password: the variable `var` (`ACCOUNT_PASSWORD`, `OPERATOR_PASSWORD`), else
/// standard input's first line (its line ending removed, nothing else: spaces are part of a
/// passphrase).
fn read_password(var: &str) -> Result<telemed_shared::accounts::Password> {
    use telemed_shared::accounts::Password;
    if let Ok(p) = std::env::var(var) {
        return Ok(Password::new(p));
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let clear = line.strip_suffix('\n').unwrap_or(&line);
    let clear = clear.strip_suffix('\r').unwrap_or(clear);
    anyhow::ensure!(
        !clear.is_empty(),
        "no password: set {var} or write it on standard input"
    );
    Ok(Password::new(clear))
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a clinic homed in this region: schema, migrations, directory entry.
    Create(CreateArgs),
    /// List the clinics of the directory (every region's).
    List(ListArgs),
    /// One clinic's directory entry, and its patients and appointments when homed here.
    Show(SlugArgs),
    /// Change a clinic's plan, name or default locale.
    Update(UpdateArgs),
    /// Suspend a clinic: its pages and API answer "suspended" (edges within 30 s).
    Suspend(SlugArgs),
    /// Serve a suspended clinic again.
    Resume(SlugArgs),
    /// A clinic's custom domains and their DNS verification.
    #[command(subcommand)]
    Domain(DomainCommand),
    /// Export a suspended clinic's data, then delete it: its schema (with its data key) in
    /// its home region — run this on that region's instance — and its directory entry
    /// everywhere. Refused while a legal hold stands.
    Delete(DeleteArgs),
}

#[derive(Subcommand)]
enum DomainCommand {
    /// Register a pending domain and print the DNS TXT record that proves control of it.
    Add(DomainArgs),
    /// Look the TXT record up; once it holds the token, the domain routes to the clinic.
    Verify(DomainArgs),
    /// Remove a domain (pending or verified).
    Remove(DomainArgs),
}

/// Who runs a command that changes a clinic, for `control.operator_events`, and the
/// platform's apex domain, which no custom domain may be or be under.
#[derive(Args)]
struct ActorArgs {
    #[arg(long, env = "USER", default_value = "operator")]
    by: String,
    /// The platform's apex domain (the edges' APEX_DOMAIN): `domain add` refuses it and
    /// every name under it, and refuses to run without it.
    #[arg(long, env = "APEX_DOMAIN")]
    apex_domain: Option<String>,
}

#[derive(Args)]
struct ListArgs {
    /// Only clinics of this country (ISO 3166-1 alpha-2).
    #[arg(long)]
    country: Option<String>,
    /// Only `active` or `suspended` clinics.
    #[arg(long, value_parser = regional_db::tenants::parse_status)]
    status: Option<telemed_shared::tenant::TenantStatus>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args)]
struct SlugArgs {
    slug: String,
    #[command(flatten)]
    actor: ActorArgs,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args)]
struct UpdateArgs {
    slug: String,
    /// One of regional_db::tenants::PLANS (basic, standard, premium).
    #[arg(long)]
    plan: Option<String>,
    #[arg(long)]
    name: Option<String>,
    /// A locale the platform serves (a folder of locales/: fr, en, es, ar).
    #[arg(long)]
    default_locale: Option<String>,
    #[command(flatten)]
    actor: ActorArgs,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args)]
struct DomainArgs {
    slug: String,
    domain: String,
    #[command(flatten)]
    actor: ActorArgs,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Args)]
struct DeleteArgs {
    slug: String,
    /// A new or empty directory: one `<table>.jsonl` per table and `manifest.json`.
    #[arg(long)]
    export: std::path::PathBuf,
    /// Do not ask for the slug to be typed again.
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    actor: ActorArgs,
    #[command(flatten)]
    db: DbArgs,
}

/// Where this instance is and which databases it uses.
#[derive(Args)]
struct DbArgs {
    /// This instance's region (must be in infra/regions.toml).
    #[arg(long, env = "REGION")]
    region: String,
    /// This region's primary.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// The database holding the control schema; defaults to DATABASE_URL.
    #[arg(long, env = "CONTROL_DATABASE_URL", hide_env_values = true)]
    control_database_url: Option<String>,
}

impl DbArgs {
    fn region(&self) -> Result<RegionId> {
        let region: RegionId = self.region.parse()?;
        anyhow::ensure!(
            telemed_shared::geo::RegionMap::embedded()
                .get(region.as_str())
                .is_some(),
            "region {region} is not in the region map"
        );
        Ok(region)
    }

    fn control_is_local(&self) -> bool {
        self.control_database_url
            .as_ref()
            .is_none_or(|c| c == &self.database_url)
    }

    /// Operator commands need a couple of connections and may wait for them.
    fn pools(&self) -> Result<(deadpool_postgres::Pool, deadpool_postgres::Pool)> {
        let wait = Duration::from_secs(30);
        let pool = db::pool(&self.database_url, 2, wait)?;
        let control = match &self.control_database_url {
            Some(url) if !self.control_is_local() => db::pool(url, 2, wait)?,
            _ => pool.clone(),
        };
        Ok((pool, control))
    }
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LISTEN", default_value = "127.0.0.1:7101")]
    listen: SocketAddr,
    #[command(flatten)]
    db: DbArgs,
    /// Comma-separated base64 Ed25519 public keys that edge tokens may be signed with.
    #[arg(long, env = "EDGE_TOKEN_PUBLIC_KEYS")]
    edge_token_public_keys: String,
    /// The other regions' regional-db base URLs: `us-east=http://127.0.0.1:7102,…`.
    #[arg(long, env = "PEER_URLS", default_value = "")]
    peer_urls: String,
    /// Connections per database pool.
    #[arg(long, env = "POOL_SIZE", default_value_t = 16)]
    pool_size: usize,
    /// This region's streaming replica: read-only batches run there (unless it lags behind
    /// the caller's last write or is down: then on the primary), and it is sampled for
    /// `regional_replica_lag_seconds`. Without it every batch runs on the primary and the
    /// lag is exported as 0. POOL_SIZE connections at most.
    #[arg(long, env = "REPLICA_DATABASE_URL", hide_env_values = true)]
    replica_database_url: Option<String>,
    /// A directory on this instance's disk where the audit events of reads served by the
    /// replica wait while the primary is down (drained into it when it is back). Without
    /// it, such reads are refused with 503 rather than answered without a trail.
    #[arg(long, env = "AUDIT_SPOOL_DIR")]
    audit_spool_dir: Option<std::path::PathBuf>,
    #[command(flatten)]
    keys: MasterKeyArgs,
    /// The exchange-rates feed (the ECB's `eurofxref-daily.xml` format) that the edge's
    /// cron trigger has the control plane's instances fetch (`POST /v1/jobs/rates`).
    #[arg(long, env = "RATES_FEED_URL", default_value = regional_db::jobs::rates::ECB_DAILY)]
    rates_feed_url: String,
    /// Run the retention job over every clinic homed here every N hours (one instance of
    /// the region leads each run). Off without it: `regional-db jobs run retention` by hand.
    #[arg(long, env = "RETENTION_EVERY_HOURS", value_parser = clap::value_parser!(u64).range(1..))]
    retention_every_hours: Option<u64>,
    /// Send the clinics' due webhook deliveries every N seconds (every instance may: claims
    /// never overlap). Off without it: `regional-db jobs run webhooks` by hand.
    #[arg(long, env = "WEBHOOKS_EVERY_SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    webhooks_every_seconds: Option<u64>,
    /// The authorisation server's keys (comma-separated base64 Ed25519 key pairs): the first
    /// signs apps' access tokens, every one verifies them (a rotation lists the new key
    /// first and keeps the retiring one until its last token expired). The edges hold
    /// their public halves (`API_TOKEN_PUBLIC_KEYS`). Without it this region issues no
    /// tokens.
    #[arg(long, env = "API_SIGNING_KEYS", hide_env_values = true)]
    api_signing_keys: Option<String>,
    /// Let the region call apps' and clinics' URLs (key sets, webhook endpoints) over plain
    /// http and on loopback or private addresses: for a local stack only, never in
    /// production.
    #[arg(long, env = "ALLOW_LOCAL_URLS")]
    allow_local_urls: bool,
    /// The operator connection: this region's primary as the schemas' owner (as
    /// `migrate` connects), used by operators' requests alone (`POST /v1/ops`: creating,
    /// deleting clinics, writing the directory). Without it this instance refuses them.
    #[arg(long, env = "OPERATOR_DATABASE_URL", hide_env_values = true)]
    operator_database_url: Option<String>,
    /// The control plane's primary as its owner; defaults to OPERATOR_DATABASE_URL (in the
    /// control plane's region).
    #[arg(long, env = "OPERATOR_CONTROL_DATABASE_URL", hide_env_values = true)]
    operator_control_database_url: Option<String>,
    /// Where a deleted clinic's export is written (`<dir>/<slug>-<UTC time>/`): a clinic
    /// homed here is deleted only with it.
    #[arg(long, env = "OPERATOR_EXPORT_DIR")]
    operator_export_dir: Option<std::path::PathBuf>,
}

#[derive(Args)]
struct CreateArgs {
    #[arg(long)]
    slug: String,
    #[arg(long)]
    name: String,
    /// ISO 3166-1 alpha-2 country; decides the home region (data residency).
    #[arg(long)]
    country: String,
    /// Custom domains of the clinic (repeatable). Never the apex domain or under it: with
    /// any, APEX_DOMAIN (or --apex-domain) must be given.
    #[arg(long = "domain")]
    domains: Vec<String>,
    /// The platform's apex domain (the edges' APEX_DOMAIN).
    #[arg(long, env = "APEX_DOMAIN")]
    apex_domain: Option<String>,
    /// The billing currency (ISO 4217), instead of the country's.
    #[arg(long)]
    currency: Option<String>,
    /// This instance's region. Given on the command line, it also asks for the clinic to be
    /// homed there, which residency allows only where the country's policy does
    /// (`telemed_shared::compliance::Hosting`).
    #[command(flatten)]
    db: DbArgs,
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            // Postgres NOTICEs (`… already exists, skipping`) are not news.
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tokio_postgres=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches)?;
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => {
            let region = args.region()?;
            let (pool, control) = args.pools()?;
            let report = migrate::run(&region, &pool, &control, true).await?;
            println!(
                "migrated {region}: {} control migration(s), {} tenant migration(s) over {} clinic schema(s)",
                report.control_applied, report.tenant_applied, report.tenants
            );
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate(args)) => {
            let region = args.db.region()?;
            let masters = args.keys.parse()?;
            let current = masters.current_id().to_owned();
            let (pool, control) = args.db.pools()?;
            let slugs: Vec<_> = migrate::homed_in(&region, &control)
                .await?
                .into_iter()
                .map(|(slug, _)| slug)
                .collect();
            let done = vault::rotate(&vault::Vault::new(masters), &pool, &slugs).await?;
            println!(
                "keys rotated in {region}: {} data key(s) re-wrapped under master key {current}, {} clinic(s) already under it or without a key",
                done.rewrapped, done.unchanged
            );
            Ok(())
        }
        Command::Audit(AuditCommand::Verify(args)) => audit_verify(args).await,
        Command::Tenant(TenantCommand::Create(args)) => {
            let region = args.db.region()?;
            // `--region` on the command line is a request to home the clinic there; from
            // the environment it only says where this instance runs.
            let explicit = matches
                .subcommand_matches("tenant")
                .and_then(|m| m.subcommand_matches("create"))
                .and_then(|m| m.value_source("region"))
                == Some(ValueSource::CommandLine);
            if !args.domains.is_empty() {
                tenants::check_domains(&args.domains, args.apex_domain.as_deref())?;
            }
            let (pool, control) = args.db.pools()?;
            let req = provision::NewTenant {
                slug: args.slug,
                name: args.name,
                country: args.country,
                region: explicit.then(|| region.to_string()),
                domains: args.domains,
                currency: args.currency,
            };
            let target = provision::Target {
                region: &region,
                pool: &pool,
                control: &control,
                control_is_local: args.db.control_is_local(),
            };
            let e = provision::create(&req, &target).await?;
            println!(
                "created clinic {} ({}, home {}, locale {}, currency {}, schema \"{}\")",
                e.slug,
                e.country,
                e.home_region,
                e.default_locale,
                e.currency,
                e.slug.schema_name()
            );
            Ok(())
        }
        Command::Tenant(command) => tenant(command).await,
        Command::Accounts(AccountsCommand::Create(args)) => {
            let password = read_password("ACCOUNT_PASSWORD")?;
            telemed_shared::accounts::check_password(password.expose())?;
            let region = args.db.region()?;
            let (pool, control) = args.db.pools()?;
            let slug = args.tenant.parse()?;
            let new = accounts::NewAccount {
                email: args.email,
                role: args.role,
                display_name: args.name,
                patient_id: args.patient,
                practitioner_id: args.practitioner,
            };
            let id =
                accounts::create(&pool, &control, &region, &slug, &new, password, &args.by).await?;
            println!(
                "created the {} account {id} of clinic {slug} ({})",
                new.role, new.email
            );
            Ok(())
        }
        Command::Jobs(JobsCommand::Run(Job::Retention(args))) => run_job(args).await,
        Command::Jobs(JobsCommand::Run(Job::Rates(args))) => {
            let (_, control) = args.db.pools()?;
            let today = args
                .today
                .unwrap_or_else(|| chrono::Utc::now().date_naive());
            let done = regional_db::jobs::rates::refresh(&control, &args.feed, today).await?;
            println!(
                "rates of {} stored: {} market rate(s) written, {} unchanged; pegged to the euro: {}",
                done.as_of,
                done.market,
                done.unchanged,
                done.pegged
                    .iter()
                    .map(|c| c.code())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok(())
        }
        Command::Holds(command) => holds(command).await,
        Command::Operators(OperatorsCommand::Create(a)) => {
            let password = read_password("OPERATOR_PASSWORD")?;
            telemed_shared::accounts::check_password(password.expose())?;
            let region = a.db.region()?;
            let (_, control) = a.db.pools()?;
            let name = a.name.clone().unwrap_or_else(|| a.email.trim().to_owned());
            let id = regional_db::operators::create(
                &control,
                region.as_str(),
                &a.email,
                &name,
                password,
                &a.actor.by,
            )
            .await?;
            println!(
                "created operator {id} ({}); they sign in at https://<APEX_DOMAIN>/ops/sign-in or POST /ops/v1/token",
                a.email.trim()
            );
            Ok(())
        }
        Command::Operators(OperatorsCommand::Disable(a)) => {
            let region = a.db.region()?;
            let (_, control) = a.db.pools()?;
            if regional_db::operators::disable(&control, region.as_str(), &a.email, &a.actor.by)
                .await?
            {
                println!(
                    "operator {} disabled: no sign-in, and their credentials are refused from their next request",
                    a.email.trim()
                );
            } else {
                println!("operator {} was already disabled", a.email.trim());
            }
            Ok(())
        }
        Command::Jobs(JobsCommand::Run(Job::Webhooks(args))) => run_webhooks(args).await,
        Command::Apps(command) => apps_command(command).await,
        Command::Webhooks(WebhooksCommand::Add(a)) => {
            let (region, (pool, control)) = (a.db.region()?, a.db.pools()?);
            let slug = a.tenant.parse()?;
            let vault = vault::Vault::new(a.keys.parse()?);
            let new = webhooks::NewEndpoint {
                url: a.url,
                event_types: a.events,
                description: a.description,
            };
            let policy = regional_db::outbound::OutboundPolicy {
                allow_local: a.allow_local_urls,
            };
            let (id, secret) =
                webhooks::add_endpoint(&pool, &control, &region, &vault, &policy, &slug, &new)
                    .await?;
            println!(
                "added webhook endpoint {id} to {slug} ({}); its secret, shown this once: {}",
                new.url,
                secret.expose()
            );
            Ok(())
        }
    }
}

/// `regional-db apps …` (regional_db/src/apps.rs), on the control plane's database.
async fn apps_command(command: AppsCommand) -> Result<()> {
    /// Runs `$body` with `$op`, an [`apps::Operator`] of `$db` and `$actor`.
    macro_rules! with_operator {
        ($db:expr, $actor:expr, |$op:ident| $body:expr) => {{
            let region = $db.region()?;
            let (_, control) = $db.pools()?;
            let $op = apps::Operator {
                control: &control,
                region: &region,
                actor: $actor,
            };
            $body
        }};
    }
    match command {
        AppsCommand::Add(a) => {
            // Checked before any connection: a bad spec writes nothing and needs no database.
            let spec = apps::read_spec(&a.file)?;
            let added = with_operator!(a.db, &a.actor.by, |op| apps::add(&op, &spec).await?);
            println!("{}", serde_json::to_string(&added)?);
        }
        AppsCommand::List(a) => {
            let (_, control) = a.db.pools()?;
            for app in apps::list(&control, a.status.as_deref()).await? {
                println!("{app}");
            }
        }
        AppsCommand::Show(a) => {
            let (_, control) = a.db.pools()?;
            println!(
                "{}",
                serde_json::to_string_pretty(&apps::show(&control, &a.slug).await?)?
            );
        }
        AppsCommand::Approve(a) => {
            let before = with_operator!(a.db, &a.actor.by, |op| apps::review(
                &op,
                &a.slug,
                true,
                a.note.as_deref()
            )
            .await?);
            eprintln!(
                "app {} approved (was {before}); clinics may install it",
                a.slug
            );
        }
        AppsCommand::Reject(a) => {
            let before = with_operator!(a.db, &a.actor.by, |op| apps::review(
                &op,
                &a.slug,
                false,
                a.note.as_deref()
            )
            .await?);
            eprintln!("app {} rejected (was {before})", a.slug);
        }
        AppsCommand::RotateSecret(a) => {
            let (client_id, secret) =
                with_operator!(a.db, &a.actor.by, |op| apps::rotate_secret(&op, &a.slug)
                    .await?);
            println!(
                "{}",
                serde_json::json!({"slug": a.slug, "client_id": client_id, "client_secret": secret})
            );
        }
    }
    Ok(())
}

async fn audit_verify(args: VerifyArgs) -> Result<()> {
    let slug: telemed_shared::tenant::TenantSlug = args.tenant.parse()?;
    let anchor = args
        .anchor
        .as_deref()
        .map(|a| {
            regional_db::audit::Head::parse_anchor(a)
                .with_context(|| format!("--anchor {a:?} is not SEQ:HASH (64 hex digits)"))
        })
        .transpose()?;
    let (pool, _) = args.db.pools()?;
    let client = pool.get().await.context("connecting to the database")?;
    let report = regional_db::audit::verify(&client, &slug, anchor).await?;
    if report.intact() {
        println!("{}", report.summary(&slug));
        return Ok(());
    }
    for b in &report.breaks {
        eprintln!("{b}");
    }
    anyhow::bail!("{}", report.summary(&slug))
}

async fn run_job(args: JobArgs) -> Result<()> {
    let region = args.db.region()?;
    let (pool, control) = args.db.pools()?;
    let now = match &args.now {
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .with_context(|| format!("--now {t:?} is not an RFC 3339 instant"))?
            .to_utc(),
        None => chrono::Utc::now(),
    };
    let job = retention::RetentionJob {
        now,
        dry_run: args.dry_run,
        only: args.tenant.as_deref().map(str::parse).transpose()?,
    };
    let reports = retention::run(&job, &region, &pool, &control).await?;
    let mode = if job.dry_run {
        " (dry run: nothing written)"
    } else {
        ""
    };
    println!("retention in {region} as of {}{mode}", now.to_rfc3339());
    for r in &reports {
        for line in r.lines(job.dry_run) {
            println!("{line}");
        }
    }
    Ok(())
}

async fn run_webhooks(args: WebhooksJobArgs) -> Result<()> {
    let region = args.db.region()?;
    let (pool, control) = args.db.pools()?;
    let vault = vault::Vault::new(args.keys.parse()?);
    let mut settings = webhooks::Settings::new(regional_db::outbound::OutboundPolicy {
        allow_local: args.allow_local_urls,
    });
    if let Some(s) = args.timeout_seconds {
        settings.timeout = Duration::from_secs(s);
    }
    if let Some(s) = args.lease_seconds {
        settings.lease = Duration::from_secs(s);
    }
    let settings = settings.check()?;
    let job = webhooks::WebhookJob {
        now: chrono::Utc::now(),
        only: args.tenant.as_deref().map(str::parse).transpose()?,
        settings,
    };
    let http = webhooks::http_client(&settings)?;
    let reports = webhooks::run(&job, &region, &pool, &control, &vault, &http).await?;
    println!("webhooks in {region}:");
    for r in &reports {
        use webhooks::Outcome::*;
        println!(
            "clinic {}: {} delivered, {} to retry, {} failed for good, {} endpoint(s) disabled (410)",
            r.slug,
            r.count(Delivered),
            r.count(Retried),
            r.count(Failed),
            r.count(Disabled)
        );
    }
    Ok(())
}

async fn holds(command: HoldsCommand) -> Result<()> {
    match command {
        HoldsCommand::Place(a) => {
            let (region, (pool, control)) = (a.db.region()?, a.db.pools()?);
            let slug = a.tenant.parse()?;
            match holds::place(&pool, &control, &region, &slug, a.patient, &a.reason, &a.by).await?
            {
                holds::Placed::New => {
                    println!("legal hold placed on Patient/{} of {slug}", a.patient)
                }
                holds::Placed::AlreadyHeld => {
                    println!(
                        "Patient/{} of {slug} was already held; that hold stands",
                        a.patient
                    )
                }
            }
        }
        HoldsCommand::Lift(a) => {
            let (region, (pool, control)) = (a.db.region()?, a.db.pools()?);
            let slug = a.tenant.parse()?;
            holds::lift(&pool, &control, &region, &slug, a.patient, &a.by).await?;
            println!("legal hold lifted from Patient/{} of {slug}", a.patient);
        }
        HoldsCommand::List(a) => {
            let (region, (pool, control)) = (a.db.region()?, a.db.pools()?);
            let slug = a.tenant.parse()?;
            for h in holds::list(&pool, &control, &region, &slug).await? {
                println!(
                    "Patient/{}\t{}\tby {} at {}",
                    h.patient, h.reason, h.placed_by, h.placed_at
                );
            }
        }
    }
    Ok(())
}

async fn serve(args: ServeArgs) -> Result<()> {
    let region = args.db.region()?;
    let keys = VerifyingKeys::from_base64_list(&args.edge_token_public_keys)
        .context("EDGE_TOKEN_PUBLIC_KEYS")?;
    let mut config = Config::new(region.clone(), args.db.database_url.clone(), keys);
    config.control_database_url = args.db.control_database_url.clone();
    config.peers = server::parse_peers(&args.peer_urls)?;
    config.pool_size = args.pool_size;
    config.replica_database_url = args.replica_database_url.filter(|u| !u.trim().is_empty());
    config.audit_spool_dir = args.audit_spool_dir;
    config.master_keys = Some(args.keys.parse()?);
    config.rates_feed_url = args.rates_feed_url;
    config.webhooks_every = args.webhooks_every_seconds.map(Duration::from_secs);
    config.api_signing_keys = args
        .api_signing_keys
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(telemed_shared::auth::SigningKey::from_base64)
        .collect::<Result<_, _>>()
        .context("API_SIGNING_KEYS")?;
    config.outbound.allow_local = args.allow_local_urls;
    config.operator_database_url = args.operator_database_url.filter(|u| !u.trim().is_empty());
    config.operator_control_database_url = args
        .operator_control_database_url
        .filter(|u| !u.trim().is_empty());
    config.operator_export_dir = args.operator_export_dir;
    // One short connection of its own, closed before serving: the pools start empty.
    regional_db::grants::warn_if_superuser(&db::pool(
        &args.db.database_url,
        1,
        Duration::from_secs(2),
    )?)
    .await;
    if let Some(hours) = args.retention_every_hours {
        let (pool, control) = args.db.pools()?;
        let period = Duration::from_secs(hours * 3600);
        tokio::spawn(retention::every(
            period,
            None,
            region.clone(),
            pool,
            control,
        ));
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    tracing::info!(%region, addr = %listener.local_addr()?, "regional-db serving");
    regional_db::run(listener, config, shutdown_signal()).await?;
    tracing::info!("regional-db stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM (what an orchestrator sends) starts a graceful shutdown.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

/// The clinic-management commands other than `create` (regional_db/src/tenants.rs).
async fn tenant(command: TenantCommand) -> Result<()> {
    use telemed_shared::tenant::{TenantSlug, TenantStatus};
    use tenants::{Added, Operator, Verified};

    /// Runs `$body` with `$op`, an [`Operator`] of `$db` and `$actor`.
    macro_rules! with_operator {
        ($db:expr, $actor:expr, |$op:ident| $body:expr) => {{
            let region = $db.region()?;
            let (pool, control) = $db.pools()?;
            let $op = Operator {
                region: &region,
                pool: &pool,
                control: &control,
                control_is_local: $db.control_is_local(),
                actor: &$actor.by,
                apex: $actor.apex_domain.as_deref(),
            };
            $body
        }};
    }
    let caches = format!(
        "edges may serve their cached directory entry for up to {} s (DIRECTORY_TTL_SECS), \
         each regional-db for a few seconds more: the change is in effect everywhere within that time",
        telemed_shared::cache::DIRECTORY_TTL_SECS
    );
    match command {
        TenantCommand::Create(_) => unreachable!("handled by main"),
        TenantCommand::List(a) => {
            let (_, control) = a.db.pools()?;
            let filter = tenants::Filter {
                country: a.country.as_deref().map(str::parse).transpose()?,
                status: a.status,
                ..Default::default()
            };
            let clinics = tenants::list(&control, &filter).await?;
            println!(
                "{:<28} {:<32} {:<7} {:<10} {:<9} {:<10} domains",
                "slug", "name", "country", "home", "plan", "status"
            );
            for c in &clinics {
                let domains: Vec<String> = c
                    .domains
                    .iter()
                    .map(|d| {
                        if d.verified {
                            d.domain.clone()
                        } else {
                            format!("{} (pending)", d.domain)
                        }
                    })
                    .collect();
                println!(
                    "{:<28} {:<32} {:<7} {:<10} {:<9} {:<10} {}",
                    c.slug,
                    c.name,
                    c.country,
                    c.home_region,
                    c.plan,
                    tenants::status_str(c.status),
                    domains.join(", ")
                );
            }
            println!("{} clinic(s)", clinics.len());
        }
        TenantCommand::Show(a) => {
            let slug: TenantSlug = a.slug.parse()?;
            let d = with_operator!(a.db, a.actor, |op| tenants::show(&op, &slug).await?);
            let c = &d.clinic;
            println!("clinic {} — {}", c.slug, c.name);
            println!(
                "  country {}, home {}, schema \"{}\" v{}",
                c.country,
                c.home_region,
                c.slug.schema_name(),
                c.schema_version
            );
            println!(
                "  default locale {}, currency {}, plan {}, status {}",
                c.default_locale,
                c.currency,
                c.plan,
                tenants::status_str(c.status)
            );
            println!("  created {}", c.created_at);
            for dom in &c.domains {
                let state = if dom.verified {
                    "verified"
                } else {
                    "pending verification"
                };
                println!("  domain {} ({state})", dom.domain);
            }
            match d.counts {
                Some(n) => println!(
                    "  {} patient(s), {} appointment(s)",
                    n.patients, n.appointments
                ),
                None => println!(
                    "  data homed in {}: run `tenant show` there for counts",
                    c.home_region
                ),
            }
        }
        TenantCommand::Update(a) => {
            let slug: TenantSlug = a.slug.parse()?;
            let change = tenants::Update {
                plan: a.plan,
                name: a.name,
                default_locale: a.default_locale,
            };
            let c = with_operator!(a.db, a.actor, |op| tenants::update(&op, &slug, &change)
                .await?);
            println!(
                "clinic {} updated: name {:?}, plan {}, default locale {}; {caches}",
                c.slug, c.name, c.plan, c.default_locale
            );
        }
        TenantCommand::Suspend(a) => {
            let slug: TenantSlug = a.slug.parse()?;
            let before = with_operator!(a.db, a.actor, |op| {
                tenants::set_status(&op, &slug, TenantStatus::Suspended).await?
            });
            if before == TenantStatus::Suspended {
                println!("clinic {slug} was already suspended: nothing changed");
            } else {
                println!(
                    "clinic {slug} suspended: its pages answer 403 with the localized \"suspended\" page, its API a suspended OperationOutcome; {caches}"
                );
            }
        }
        TenantCommand::Resume(a) => {
            let slug: TenantSlug = a.slug.parse()?;
            let before = with_operator!(a.db, a.actor, |op| {
                tenants::set_status(&op, &slug, TenantStatus::Active).await?
            });
            if before == TenantStatus::Active {
                println!("clinic {slug} was already active: nothing changed");
            } else {
                println!("clinic {slug} resumed: served again; {caches}");
            }
        }
        TenantCommand::Domain(DomainCommand::Add(a)) => {
            let slug: TenantSlug = a.slug.parse()?;
            let added = with_operator!(a.db, a.actor, |op| {
                tenants::domain_add(&op, &slug, &a.domain).await?
            });
            match added {
                Added::AlreadyVerified => {
                    println!("{} is already a verified domain of clinic {slug}", a.domain);
                }
                Added::Pending(p) => {
                    let again = if p.existing {
                        " (already pending: same token)"
                    } else {
                        ""
                    };
                    println!(
                        "domain {} of clinic {slug} is pending verification{again}; create this DNS record:",
                        p.domain
                    );
                    println!("  {}", p.record());
                    println!(
                        "then run: regional-db tenant domain verify {slug} {}",
                        p.domain
                    );
                    println!("until verified, the domain does not route to the clinic");
                }
            }
        }
        TenantCommand::Domain(DomainCommand::Verify(a)) => {
            let slug: TenantSlug = a.slug.parse()?;
            let resolver = tenants::SystemResolver::from_system_conf()?;
            let done = with_operator!(a.db, a.actor, |op| {
                tenants::domain_verify(&op, &slug, &a.domain, &resolver).await?
            });
            match done {
                Verified::Already => {
                    println!("{} was already verified for clinic {slug}", a.domain)
                }
                Verified::Now => println!(
                    "{} verified: it routes to clinic {slug}; {caches}",
                    a.domain
                ),
            }
        }
        TenantCommand::Domain(DomainCommand::Remove(a)) => {
            let slug: TenantSlug = a.slug.parse()?;
            with_operator!(a.db, a.actor, |op| {
                tenants::domain_remove(&op, &slug, &a.domain).await?
            });
            println!("domain {} removed from clinic {slug}; {caches}", a.domain);
        }
        TenantCommand::Delete(a) => {
            let slug: TenantSlug = a.slug.parse()?;
            if !a.yes {
                eprint!(
                    "this exports then DELETES clinic {slug} and all its data; type its slug to go on: "
                );
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("reading the confirmation")?;
                anyhow::ensure!(
                    line.trim() == slug.as_str(),
                    "not confirmed: nothing was deleted"
                );
            }
            let done = with_operator!(a.db, a.actor, |op| {
                tenants::delete(&op, &slug, &a.export).await?
            });
            let rows: u64 = done.tables.values().sum();
            println!(
                "clinic {slug} exported to {} ({} table(s), {rows} row(s), manifest.json), then deleted: schema dropped with its data key, directory entry and domains removed; {caches}",
                done.export_dir.display(),
                done.tables.len()
            );
        }
    }
    Ok(())
}
