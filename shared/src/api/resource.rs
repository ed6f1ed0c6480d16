//! What a FHIR resource type is to the API: the [`Resource`] trait each module of
//! [`super::resources`] implements, and everything derived from it in one place — the
//! named statements and their SQL, statement names, audit labels, SMART scopes, the
//! CapabilityStatement entry, validation and the stored row's shape.
//!
//! A resource is stored in its own table of the clinic's schema, made by one tenant
//! migration, with the same five columns every resource table has:
//!
//! ```sql
//! id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
//! seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,   -- creation order, for keyset paging
//! version_id integer NOT NULL DEFAULT 1,
//! resource jsonb NOT NULL,                          -- as sent, minus id and meta
//! last_updated timestamptz NOT NULL DEFAULT now(),
//! ```
//!
//! plus the [`Column`]s the resource indexes for search (each filled from the resource by
//! [`Resource::index`] on every write, so they never disagree with it). The SQL of
//! every statement is generated here from those declarations: a resource module writes no
//! SQL for the plain interactions.

use serde_json::{Map, Value, json};

use super::search::SearchParam;
use crate::dataplane::wire::Call;
use crate::{
    auth::Perms,
    compliance::Policy,
    dataplane::statement::{
        Access, Audit, Param, ParamType, SEALED_COLUMN, SchemaScope, Statement,
    },
    fhir::{
        Issue, IssueCode,
        datatypes::{Type, check_resource},
    },
};

/// A column a resource table holds besides the five common ones, filled by
/// [`Resource::index`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub ty: ParamType,
    /// For a reference: the table of the resource it points to (the column's foreign key).
    /// A lenient Bundle entry whose reference resolves to nothing is skipped, not an error
    /// of the whole batch.
    pub refers_to: Option<&'static str>,
}

impl Column {
    const fn of(name: &'static str, ty: ParamType) -> Self {
        Self {
            name,
            ty,
            refers_to: None,
        }
    }
    pub const fn text(name: &'static str) -> Self {
        Self::of(name, ParamType::Text)
    }
    pub const fn boolean(name: &'static str) -> Self {
        Self::of(name, ParamType::Bool)
    }
    pub const fn uuid(name: &'static str) -> Self {
        Self::of(name, ParamType::Uuid)
    }
    pub const fn instant(name: &'static str) -> Self {
        Self::of(name, ParamType::Timestamptz)
    }
    pub const fn jsonb(name: &'static str) -> Self {
        Self::of(name, ParamType::Jsonb)
    }
    /// The resource's sealed elements ([`super::sealed`]): a `bytea` column named
    /// [`SEALED_COLUMN`], which every statement over the resource returns.
    pub const fn sealed() -> Self {
        Self::of(SEALED_COLUMN, ParamType::Sealed)
    }
    /// A jsonb array of blind-index tokens ([`super::search::blind_identifier_tokens`]),
    /// which [`super::search::Match::BlindIdentifier`] reads.
    pub const fn blind_tokens(name: &'static str) -> Self {
        Self::of(name, ParamType::BlindTokens)
    }
    /// A uuid column referencing `table`'s ids.
    pub const fn reference(name: &'static str, table: &'static str) -> Self {
        Self {
            name,
            ty: ParamType::Uuid,
            refers_to: Some(table),
        }
    }

    /// The column's value in a jsonb object `e` of a bulk statement.
    fn read_from(&self, e: &str) -> String {
        let (name, text) = (self.name, format!("{e}->>'{}'", self.name));
        match self.ty {
            ParamType::Text => text,
            ParamType::Int8 => format!("({text})::int8"),
            ParamType::Uuid => format!("({text})::uuid"),
            ParamType::Bool => format!("({text})::boolean"),
            ParamType::Timestamptz => format!("({text})::timestamptz"),
            ParamType::Jsonb | ParamType::BlindTokens | ParamType::Rows(_) => {
                format!("NULLIF({e}->'{name}', 'null'::jsonb)")
            }
            // The region put the ciphertext there as base64.
            ParamType::Sealed | ParamType::AppWebhookSecret => format!("decode({text}, 'base64')"),
            // The region put the hash there (no resource column is a password today).
            ParamType::BlindToken | ParamType::Password => text,
        }
    }
}

/// An order a search may ask for (`_sort=date`, `_sort=-date`), on a `NOT NULL`
/// timestamptz column; ties (and paging) go by creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub name: &'static str,
    pub column: &'static str,
}

/// The id a `Reference` element points to when it is `<target>/<id>`; an issue at `path`
/// otherwise. An id that is not one of ours reads as unknown, like an id of another clinic
/// (whose refusal comes from the foreign key: that resource is not in this schema).
pub fn reference_to(value: Option<&Value>, target: &str, path: &str) -> Result<String, Issue> {
    let reference = value
        .and_then(|v| v.get("reference"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Issue::new(
                IssueCode::Required,
                format!("{path} must be a reference {target}/<id>"),
            )
            .at(path)
        })?;
    match reference.split_once('/') {
        Some((t, id)) if t == target => super::parse_uuid(id).ok_or_else(|| unknown(path, target)),
        _ => Err(Issue::new(
            IssueCode::Value,
            format!("{path} must be a reference {target}/<id>, not {reference}"),
        )
        .at(path)),
    }
}

/// The issue of a reference to nothing this clinic holds.
pub fn unknown(path: &str, target: &str) -> Issue {
    Issue::new(
        IssueCode::Invalid,
        format!("{path} refers to a {target} this clinic does not have"),
    )
    .at(path)
}

/// An issue at `path` when `date` (a FHIR date) lies after `rules.today`: births and other
/// past events cannot be in the future.
pub fn future_date(date: Option<&Value>, rules: &Rules<'_>, path: &str) -> Option<Issue> {
    let d = date?.as_str()?;
    (crate::fhir::datatypes::is_fhir_date(d) && d > rules.today).then(|| {
        Issue::new(
            IssueCode::Value,
            format!(
                "{} is in the future",
                path.rsplit('.').next().unwrap_or(path)
            ),
        )
        .at(path)
    })
}

/// The FHIR RESTful interactions the API offers on a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    Read,
    SearchType,
    Create,
    Update,
}

impl Interaction {
    /// As a CapabilityStatement names it.
    pub fn code(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::SearchType => "search-type",
            Self::Create => "create",
            Self::Update => "update",
        }
    }

    /// The SMART permission it needs, and that permission's letter (`c r u d s`).
    pub fn perm(self) -> (Perms, char) {
        match self {
            Self::Read => (Perms::READ, 'r'),
            Self::SearchType => (Perms::SEARCH, 's'),
            Self::Create => (Perms::CREATE, 'c'),
            Self::Update => (Perms::UPDATE, 'u'),
        }
    }

    /// The verb of its statement, and of its audit record.
    pub fn verb(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::SearchType => "search",
            Self::Create => "create",
            Self::Update => "update",
        }
    }
}

/// A rule the clinic's database enforces for a resource — a constraint, or a check its
/// triggers raise under that name (`"<name>": <detail>` as the message) — and how the API
/// words a refusal by it. The database is where rules that depend on other rows (the slot
/// is still free, the status change is allowed, the referenced resource exists in this
/// clinic) hold under concurrency.
#[derive(Debug, Clone, Copy)]
pub struct DbRule {
    /// The constraint's name, as Postgres quotes it in the error message.
    pub name: &'static str,
    /// 409 (the clinic's data changed under the request) or 422 (the request is wrong).
    pub conflict: bool,
    /// The FHIRPath of the element at fault.
    pub path: &'static str,
    /// What the client reads.
    pub human: &'static str,
}

impl DbRule {
    /// A reference column's foreign key (`<table>_<column>_fkey`, Postgres's default name):
    /// a reference to nothing — or to another clinic's resource, which is not in this
    /// clinic's schema — is the same 422.
    pub const fn reference(name: &'static str, path: &'static str, human: &'static str) -> Self {
        Self {
            name,
            conflict: false,
            path,
            human,
        }
    }
}

/// A FHIR operation on one resource of a type: `POST …/<Type>/<id>/$<name>`.
#[derive(Clone, Copy)]
pub enum Operation {
    /// Creates a `target` resource from the body, its `element` set to a reference to the
    /// instance (`Slot/{id}/$book` creates an Appointment for that slot): the target's own
    /// create, scopes and rules.
    CreateFor {
        name: &'static str,
        target: &'static dyn Resource,
        element: &'static str,
    },
    /// Runs statements of the resource's own, built from the instance's id and a FHIR
    /// `Parameters` body, and answers what they produced: see [`Procedure`].
    Procedure(&'static Procedure),
    /// `GET …/<Type>/<id>/$<name>`: a search of `target` restricted to the instance (its
    /// reference search parameter `param` set to `<Type>/<id>`), in `sort` order, newest
    /// first; the query string adds `_count`, `_cursor` and `target`'s other parameters.
    /// The target's search, with its scope and its audit (`Patient/{id}/$access-log` is a
    /// search of the AuditEvents about that patient).
    SearchOf {
        name: &'static str,
        target: &'static dyn Resource,
        param: &'static str,
        sort: &'static str,
    },
    /// `Patient/{id}/$erase`: a request for erasure, answered with what went and what the
    /// law keeps ([`super::erase`]).
    Erase,
}

impl Operation {
    pub fn name(&self) -> &'static str {
        match self {
            Self::CreateFor { name, .. } | Self::SearchOf { name, .. } => name,
            Self::Procedure(p) => p.name,
            Self::Erase => "erase",
        }
    }

    /// Whether it reads only, answered to `GET` (else to `POST`).
    pub fn is_read(&self) -> bool {
        matches!(self, Self::SearchOf { .. })
    }
}

/// Builds a procedure's statements from the instance's id and the `Parameters` body.
pub type ProcedureCalls = fn(&str, &Map<String, Value>) -> Result<Vec<Call>, Vec<Issue>>;

/// An operation that is one batch of statements of its own.
pub struct Procedure {
    pub name: &'static str,
    /// The type whose scope and interaction it needs (`$generate-slots` creates Slots).
    pub needs: (&'static dyn Resource, Interaction),
    /// The statements of the batch, from the instance's id and the `Parameters` body;
    /// the first is audited and its rows are the resources answered, of type `needs.0`.
    pub calls: ProcedureCalls,
    /// Reads the other statements' rows: `Err` when the instance or a parameter does not
    /// exist (404 or 422), given the whole batch's results.
    pub check:
        fn(results: &[crate::dataplane::wire::StatementResult]) -> Result<(), super::ApiError>,
}

/// What the rules of a write may depend on besides the resource.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// The clinic's country policy; [`crate::compliance::SHAPE_ONLY`] when the edge does not
    /// know the clinic yet (its schema then enforces the policy's constraints itself).
    pub policy: &'a Policy,
    /// `YYYY-MM-DD`, UTC: "today" for dates that may not lie in the future.
    pub today: &'a str,
    /// The clinic's billing currency (`TenantEntry::billing_currency`), when the edge knows
    /// the clinic and the currency; else prices are checked against it by the clinic's schema
    /// alone (`clinic_billing`, 0015_billing.sql).
    pub currency: Option<crate::money::Currency>,
}

/// The rules of a clinic whose country is not known yet, on a fixed day: for unit tests
/// of resources that do not depend on the policy.
#[cfg(test)]
pub(crate) const TEST_RULES: Rules<'static> = Rules {
    policy: &crate::compliance::SHAPE_ONLY,
    today: "2026-11-30",
    currency: None,
};

/// The outcome of [`Resource::index`]: the values of [`Resource::columns`], in order, and
/// the faults the API's own rules found (the structure was checked before).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Indexed {
    pub columns: Vec<Value>,
    pub issues: Vec<Issue>,
}

/// What a resource type is, as data: its names, table, structure, columns, search
/// parameters, database rules, operations. Each module of [`super::resources`] declares one
/// `static`, starting from [`Meta::new`] and naming only what it has.
pub struct Meta {
    /// The FHIR type, `Patient`.
    pub name: &'static str,
    /// The `/v1` collection, `patients`.
    pub plural: &'static str,
    /// Its table in the clinic's schema, made by a tenant migration.
    pub table: &'static str,
    /// Its R4 structure: every element it may hold, at every depth.
    pub structure: &'static Type,
    /// The columns indexed for search, filled by [`Resource::index`].
    pub columns: &'static [Column],
    /// The search parameters it answers, besides `_id`, `_count`, `_cursor` and `_sort`.
    pub search: &'static [SearchParam],
    /// The interactions offered.
    pub interactions: &'static [Interaction],
    /// The rules its table's constraints and triggers enforce, by name.
    pub db_rules: &'static [DbRule],
    /// Its operations on an instance (`$book`, `$generate-slots`).
    pub operations: &'static [Operation],
    /// The unique text column holding the resource's identity — its first identifier as
    /// `system|value` — if it has one: what makes conditional create (`If-None-Exist:
    /// identifier=…`) and Bundle ingestion exactly-once, under any concurrency. The
    /// resource must also have an `identifier` search parameter.
    pub identity: Option<&'static str>,
    /// The column naming the Patient a row is about (a uuid referencing `patients`): every
    /// statement over the type then audits, besides the rows, each patient they touched
    /// (a `Patient` event per distinct patient, in the same transaction).
    pub patient_column: Option<&'static str>,
    /// Whether the type is the root of the patient compartment (`Patient` itself):
    /// `$everything` starts from it, by `id` ([`compartment_column`]).
    pub compartment_root: bool,
    /// The orders `_sort` may ask for, besides creation order.
    pub sorts: &'static [Sort],
    /// Statements of its own besides the generated ones (those its operations run); named
    /// `<type>.<verb>` like the rest.
    pub extra_statements: &'static [Statement],
    /// Only a scope naming the type grants access to it, not a `*` wildcard: for types a
    /// broad grant should not reach by accident (the audit trail).
    pub explicit_scope: bool,
}

impl Meta {
    /// A type with every interaction and nothing else: no columns, search parameters,
    /// rules, operations, identity or sorts.
    pub const fn new(
        name: &'static str,
        plural: &'static str,
        table: &'static str,
        structure: &'static Type,
    ) -> Self {
        Self {
            name,
            plural,
            table,
            structure,
            columns: &[],
            search: &[],
            interactions: &[
                Interaction::Read,
                Interaction::SearchType,
                Interaction::Create,
                Interaction::Update,
            ],
            db_rules: &[],
            operations: &[],
            identity: None,
            patient_column: None,
            compartment_root: false,
            sorts: &[],
            extra_statements: &[],
            explicit_scope: false,
        }
    }
}

/// One FHIR resource type served by the API. Implemented by a unit struct per module of
/// [`super::resources`] and listed once in [`super::resources::REGISTRY`]; routes, scopes,
/// statements, audit and metric labels and the CapabilityStatement all derive from it.
/// What it is lives in its [`Meta`]; what it does, in [`Resource::index`].
pub trait Resource: Sync {
    /// What the type is.
    fn meta(&self) -> &'static Meta;
    /// The API's own rules for a structurally checked resource, and its column values
    /// (in the order of [`Meta::columns`]).
    fn index(&self, resource: &Map<String, Value>, rules: &Rules<'_>) -> Indexed;

    fn name(&self) -> &'static str {
        self.meta().name
    }
    fn plural(&self) -> &'static str {
        self.meta().plural
    }
    fn table(&self) -> &'static str {
        self.meta().table
    }
    fn structure(&self) -> &'static Type {
        self.meta().structure
    }
    fn columns(&self) -> &'static [Column] {
        self.meta().columns
    }
    fn search_params(&self) -> &'static [SearchParam] {
        self.meta().search
    }
    fn interactions(&self) -> &'static [Interaction] {
        self.meta().interactions
    }
    fn db_rules(&self) -> &'static [DbRule] {
        self.meta().db_rules
    }
    fn operations(&self) -> &'static [Operation] {
        self.meta().operations
    }
    fn identity(&self) -> Option<&'static str> {
        self.meta().identity
    }
    fn patient_column(&self) -> Option<&'static str> {
        self.meta().patient_column
    }
    fn sorts(&self) -> &'static [Sort] {
        self.meta().sorts
    }
    fn extra_statements(&self) -> &'static [Statement] {
        self.meta().extra_statements
    }
    fn explicit_scope(&self) -> bool {
        self.meta().explicit_scope
    }
}

/// Why a body is not an acceptable resource: 400 when it is not a resource at all, 422
/// when it is one we refuse.
#[derive(Debug, Clone, PartialEq)]
pub enum Invalid {
    /// Not a JSON object: no resource to speak of.
    NotAResource,
    /// A resource, but invalid or of another type; one issue per fault.
    Issues(Vec<Issue>),
}

/// A resource ready for its create or update statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Valid {
    /// What is stored: the resource as sent, without the server-owned `id` and `meta`.
    pub resource: Value,
    /// The values of [`Resource::columns`], in order.
    pub columns: Vec<Value>,
}

/// Checks a body as a resource of type `r`: its type, its whole structure (unknown
/// elements, formats, cardinalities, bindings, invariants, at every depth), then the
/// resource's own rules. Every issue is reported at once.
pub fn validate(r: &dyn Resource, body: Value, rules: &Rules<'_>) -> Result<Valid, Invalid> {
    let Value::Object(mut obj) = body else {
        return Err(Invalid::NotAResource);
    };
    match obj.get("resourceType") {
        Some(Value::String(t)) if t == r.name() => {}
        Some(Value::String(t)) => {
            return Err(Invalid::Issues(vec![
                Issue::new(
                    IssueCode::Invalid,
                    format!("expected a {} resource, got {t}", r.name()),
                )
                .at("resourceType"),
            ]));
        }
        _ => {
            return Err(Invalid::Issues(vec![
                Issue::new(
                    IssueCode::Required,
                    format!("resourceType \"{}\" is required", r.name()),
                )
                .at("resourceType"),
            ]));
        }
    }
    let mut issues = check_resource(&obj, r.structure());
    let indexed = r.index(&obj, rules);
    issues.extend(indexed.issues);
    if !issues.is_empty() {
        return Err(Invalid::Issues(issues));
    }
    obj.remove("id");
    obj.remove("meta");
    for (column, value) in r.columns().iter().zip(&indexed.columns) {
        if column.ty == ParamType::Sealed {
            super::sealed::strip(&mut obj, value);
        }
    }
    Ok(Valid {
        resource: Value::Object(obj),
        columns: indexed.columns,
    })
}

/// The call of `r`'s create statement for a validated resource: what the API's create
/// (`POST /v1/<plural>`) sends, and what a page creating a resource sends, so both store
/// exactly the same row for the same resource.
pub fn create_call(r: &dyn Resource, valid: Valid) -> Call {
    Call {
        name: statement_name(r, Interaction::Create.verb()),
        params: std::iter::once(valid.resource)
            .chain(valid.columns)
            .collect(),
    }
}

/// The resource to return from a stored row (`id`, `version_id`, `last_updated`,
/// `resource`). `None` if the row is not shaped as the catalog promises.
pub fn from_row(row: &Map<String, Value>) -> Option<Value> {
    let id = row.get("id")?.as_str()?;
    let version = row.get("version_id")?.as_i64()?;
    let last_updated = row.get("last_updated")?.as_str()?;
    let mut resource = row.get("resource")?.clone();
    let obj = resource.as_object_mut()?;
    if let Some(sealed) = row.get(SEALED_COLUMN) {
        super::sealed::restore(obj, sealed);
    }
    obj.insert("id".into(), json!(id));
    obj.insert(
        "meta".into(),
        json!({ "versionId": version.to_string(), "lastUpdated": last_updated }),
    );
    Some(resource)
}

/// The statement verbs of a resource, besides its interactions: `count` (a search's
/// total) and `version` (tells a stale `If-Match` from an unknown id after an update).
pub const COUNT: &str = "count";
pub const VERSION: &str = "version";
/// The verb of a type's part of a patient's record, for `$everything` (an export).
pub const EVERYTHING: &str = "everything";

/// The column that puts `r`'s rows in a patient's compartment: its patient column, or the
/// id of the compartment's root (the Patient itself). `None`: the type is not part of a
/// patient's record.
pub fn compartment_column(r: &dyn Resource) -> Option<&'static str> {
    if r.meta().compartment_root {
        return Some("id");
    }
    r.patient_column()
}

/// The name of `r`'s statement for `verb`: `patient.read`.
pub fn statement_name(r: &dyn Resource, verb: &str) -> String {
    format!("{}.{verb}", r.name().to_ascii_lowercase())
}

/// The SMART v2 scope an interaction on `r` needs: `system/Patient.r`.
pub fn scope(r: &dyn Resource, interaction: Interaction) -> String {
    format!("system/{}.{}", r.name(), interaction.perm().1)
}

/// The columns every statement over a resource returns: what [`from_row`] reads, and the
/// patient the row is about (`audit_patient`) when the type has one, for the audit trail.
fn row_columns(r: &dyn Resource) -> String {
    let mut row = "id, version_id, last_updated, resource".to_owned();
    if r.columns().iter().any(|c| c.ty == ParamType::Sealed) {
        row.push_str(&format!(", {SEALED_COLUMN}"));
    }
    if let Some(c) = r.patient_column() {
        row.push_str(&format!(", {c} AS audit_patient"));
    }
    row
}

fn leak(s: String) -> &'static str {
    // Called once per statement per process, when the catalog is assembled.
    Box::leak(s.into_boxed_str())
}

/// `r`'s statements, generated from its declarations. Parameters:
/// - `create`: `$1` resource, then the columns;
/// - `read`, `version`: `$1` id;
/// - `update`: `$1` id, `$2` the expected version (`If-Match`, nullable), `$3` resource,
///   then the columns;
/// - `search`: `$1` the cursor (last `seq` seen), then each search parameter's values
///   (one each), then `_id`, then the limit;
/// - `count`: the same filters, without cursor and limit.
pub fn statements(r: &dyn Resource) -> Vec<Statement> {
    let table = r.table();
    let row = row_columns(r);
    let returning = format!("RETURNING {row}");
    let columns = r.columns();
    let audit = |action: &'static str| {
        Some(Audit {
            action,
            resource_type: r.name(),
        })
    };
    let name = |verb: &str| leak(statement_name(r, verb));
    let params = |ps: Vec<Param>| -> &'static [Param] { Box::leak(ps.into_boxed_slice()) };
    let column_params = || {
        columns.iter().map(|c| Param {
            name: c.name,
            ty: c.ty,
            nullable: true,
        })
    };
    let placeholders = |from: usize| {
        (0..columns.len())
            .map(|i| format!("${}", from + i))
            .collect::<Vec<_>>()
    };
    let mut out = Vec::new();
    let offers = |i: Interaction| r.interactions().contains(&i);
    if offers(Interaction::Create) {
        let names: Vec<&str> = std::iter::once("resource")
            .chain(columns.iter().map(|c| c.name))
            .collect();
        let values: Vec<String> = std::iter::once("$1".to_owned())
            .chain(placeholders(2))
            .collect();
        out.push(Statement {
            name: name(Interaction::Create.verb()),
            sql: leak(format!(
                "INSERT INTO {table} ({}) VALUES ({}) {returning}",
                names.join(", "),
                values.join(", ")
            )),
            access: Access::Write,
            scope: SchemaScope::Tenant,
            params: params(
                std::iter::once(Param {
                    name: "resource",
                    ty: ParamType::Jsonb,
                    nullable: false,
                })
                .chain(column_params())
                .collect(),
            ),
            audit: audit("create"),
        });
    }
    let id_param = Param {
        name: "id",
        ty: ParamType::Uuid,
        nullable: false,
    };
    if offers(Interaction::Read) {
        out.push(Statement {
            name: name(Interaction::Read.verb()),
            sql: leak(format!("SELECT {row} FROM {table} WHERE id = $1")),
            access: Access::Read,
            scope: SchemaScope::Tenant,
            params: params(vec![id_param]),
            audit: audit("read"),
        });
    }
    if offers(Interaction::Update) {
        let sets: Vec<String> = std::iter::once("resource = $3".to_owned())
            .chain(
                columns
                    .iter()
                    .zip(placeholders(4))
                    .map(|(c, p)| format!("{} = {p}", c.name)),
            )
            .collect();
        out.push(Statement {
            name: name(Interaction::Update.verb()),
            sql: leak(format!(
                "UPDATE {table} SET {}, version_id = version_id + 1, last_updated = now() \
                 WHERE id = $1 AND ($2::int8 IS NULL OR version_id = $2) {returning}",
                sets.join(", ")
            )),
            access: Access::Write,
            scope: SchemaScope::Tenant,
            params: params(
                [
                    id_param,
                    Param {
                        name: "if_match",
                        ty: ParamType::Int8,
                        nullable: true,
                    },
                    Param {
                        name: "resource",
                        ty: ParamType::Jsonb,
                        nullable: false,
                    },
                ]
                .into_iter()
                .chain(column_params())
                .collect(),
            ),
            audit: audit("update"),
        });
        out.push(Statement {
            name: name(VERSION),
            sql: leak(format!("SELECT version_id FROM {table} WHERE id = $1")),
            access: Access::Read,
            scope: SchemaScope::Tenant,
            params: params(vec![id_param]),
            audit: None,
        });
    }
    if offers(Interaction::SearchType) {
        let (filters, filter_params) = super::search::filters(r, 2);
        let n = filter_params.len();
        out.push(Statement {
            name: name(Interaction::SearchType.verb()),
            // Keyset paging on `seq` (creation order): stable under concurrent inserts,
            // and O(page) however deep the client pages. One extra row tells if a next
            // page exists.
            sql: leak(format!(
                "SELECT {row}, seq FROM {table} \
                 WHERE ($1::int8 IS NULL OR seq > $1){filters} ORDER BY seq LIMIT ${}",
                n + 2
            )),
            access: Access::Read,
            scope: SchemaScope::Tenant,
            params: params(
                std::iter::once(Param {
                    name: "after_seq",
                    ty: ParamType::Int8,
                    nullable: true,
                })
                .chain(filter_params.iter().copied())
                .chain(std::iter::once(Param {
                    name: "limit",
                    ty: ParamType::Int8,
                    nullable: false,
                }))
                .collect(),
            ),
            audit: audit("search"),
        });
        let (filters, filter_params) = super::search::filters(r, 1);
        out.push(Statement {
            name: name(COUNT),
            sql: leak(format!(
                "SELECT count(*) AS total FROM {table} WHERE true{filters}"
            )),
            access: Access::Read,
            scope: SchemaScope::Tenant,
            params: params(filter_params),
            audit: None,
        });
    }
    if offers(Interaction::SearchType) {
        for sort in r.sorts() {
            for desc in [false, true] {
                out.push(sorted_search(r, sort, desc));
            }
        }
    }
    if offers(Interaction::Read)
        && let Some(column) = compartment_column(r)
    {
        // A page of the patient's rows of this type, in creation order: `$1` the patient,
        // `$2` the last seq sent (nullable), `$3` the limit. Audited as an export.
        out.push(Statement {
            name: name(EVERYTHING),
            sql: leak(format!(
                "SELECT {row}, seq FROM {table} WHERE {column} = $1 \
                 AND ($2::int8 IS NULL OR seq > $2) ORDER BY seq LIMIT $3"
            )),
            access: Access::Read,
            scope: SchemaScope::Tenant,
            params: params(vec![
                Param {
                    name: "patient",
                    ty: ParamType::Uuid,
                    nullable: false,
                },
                Param {
                    name: "after_seq",
                    ty: ParamType::Int8,
                    nullable: true,
                },
                Param {
                    name: "limit",
                    ty: ParamType::Int8,
                    nullable: false,
                },
            ]),
            audit: audit("export"),
        });
    }
    if offers(Interaction::Create) {
        out.extend(bulk_statements(r));
    }
    out.extend_from_slice(r.extra_statements());
    out
}

/// The name of a sorted search statement: `observation.search-by-date-desc`.
pub fn sorted_search_name(r: &dyn Resource, sort: &Sort, desc: bool) -> String {
    let dir = if desc { "-desc" } else { "" };
    statement_name(r, &format!("search-by-{}{dir}", sort.name))
}

/// A search in `sort`'s order: keyset paging on (sort key, seq). `$1` the last sort key
/// seen, `$2` its seq, then the filters, then the limit; rows carry `sort_key`.
fn sorted_search(r: &dyn Resource, sort: &Sort, desc: bool) -> Statement {
    let (filters, filter_params) = super::search::filters(r, 3);
    let (cmp, order) = if desc { ("<", "DESC") } else { (">", "ASC") };
    let column = sort.column;
    Statement {
        name: leak(sorted_search_name(r, sort, desc)),
        sql: leak(format!(
            "SELECT {}, seq, {column} AS sort_key FROM {} \
             WHERE ($1::timestamptz IS NULL OR ({column}, seq) {cmp} ($1, $2::int8)){filters} \
             ORDER BY {column} {order}, seq {order} LIMIT ${}",
            row_columns(r),
            r.table(),
            filter_params.len() + 3
        )),
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: Box::leak(
            [
                Param {
                    name: "after_key",
                    ty: ParamType::Timestamptz,
                    nullable: true,
                },
                Param {
                    name: "after_seq",
                    ty: ParamType::Int8,
                    nullable: true,
                },
            ]
            .into_iter()
            .chain(filter_params)
            .chain(std::iter::once(Param {
                name: "limit",
                ty: ParamType::Int8,
                nullable: false,
            }))
            .collect::<Vec<_>>()
            .into_boxed_slice(),
        ),
        audit: Some(Audit {
            action: "search",
            resource_type: r.name(),
        }),
    }
}

/// How a bulk create treats an entry that cannot be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkMode {
    /// Every entry or none: a conflict or an unknown reference fails the statement.
    Strict,
    /// Strict, but an entry whose identity (or identifier) is already there is skipped:
    /// conditional create.
    IfNoneExist,
    /// Each entry on its own: already there, or referring to nothing, is skipped.
    Lenient,
}

impl BulkMode {
    pub const ALL: [BulkMode; 3] = [Self::Strict, Self::IfNoneExist, Self::Lenient];

    fn verb(self) -> &'static str {
        match self {
            Self::Strict => "create-many",
            Self::IfNoneExist => "create-many-if-none-exist",
            Self::Lenient => "create-many-lenient",
        }
    }
}

/// The name of `r`'s bulk create in `mode`.
pub fn bulk_name(r: &dyn Resource, mode: BulkMode) -> String {
    statement_name(r, mode.verb())
}

/// The name of `r`'s look-up of resources by identifier tokens.
pub fn match_name(r: &dyn Resource) -> String {
    statement_name(r, MATCH_IDENTIFIERS)
}

/// The verb of the look-up by identifiers.
const MATCH_IDENTIFIERS: &str = "match-identifiers";

/// The verb of the refusal of conditions that match several resources, and its rule.
const REFUSE_AMBIGUOUS: &str = "refuse-ambiguous";
pub const AMBIGUOUS_RULE: &str = "api_conditional_ambiguous";

/// The name of `r`'s refusal of ambiguous conditions.
pub fn refuse_ambiguous_name(r: &dyn Resource) -> String {
    statement_name(r, REFUSE_AMBIGUOUS)
}

/// The jsonb column an `identifier` search parameter reads, if `r` has one.
pub fn identifier_column(r: &dyn Resource) -> Option<&'static str> {
    r.search_params().iter().find_map(|p| match p.kind {
        super::search::Match::Identifier(c) if p.name == "identifier" => Some(c),
        _ => None,
    })
}

/// Bulk creates (one statement for a whole Bundle's entries of a type): `$1` is a jsonb
/// array of `{"id", "resource", <column>…}` objects, ids drawn by the edge so each entry's
/// outcome is known by id. With an identity, the look-up of existing resources by
/// identifier tokens (`$1` a jsonb array of `system|value` strings), run after the insert
/// in the same transaction (a new snapshot: it sees a concurrent twin that committed).
fn bulk_statements(r: &dyn Resource) -> Vec<Statement> {
    let table = r.table();
    let columns = r.columns();
    let names: Vec<&str> = ["id", "resource"]
        .into_iter()
        .chain(columns.iter().map(|c| c.name))
        .collect();
    let values: Vec<String> = ["(e->>'id')::uuid".to_owned(), "e->'resource'".to_owned()]
        .into_iter()
        .chain(columns.iter().map(|c| c.read_from("e")))
        .collect();
    let identity = r.identity();
    let identifiers = identifier_column(r);
    // Entries whose columns the region must seal or blind say which.
    let protected: Vec<Param> = columns
        .iter()
        .filter(|c| c.ty.needs_data_key())
        .map(|c| Param {
            name: c.name,
            ty: c.ty,
            nullable: true,
        })
        .collect();
    let entries: &'static [Param] = Box::leak(Box::new([Param {
        name: "entries",
        ty: if protected.is_empty() {
            ParamType::Jsonb
        } else {
            ParamType::Rows(Box::leak(protected.into_boxed_slice()))
        },
        nullable: false,
    }]));
    let mut out = Vec::new();
    for mode in BulkMode::ALL {
        if mode == BulkMode::IfNoneExist && identity.is_none() {
            continue;
        }
        let mut conditions = Vec::new();
        if let (Some(identity), Some(identifiers), BulkMode::IfNoneExist | BulkMode::Lenient) =
            (identity, identifiers, mode)
        {
            conditions.push(format!(
                "(e->>'{identity}' IS NULL OR NOT EXISTS \
                 (SELECT 1 FROM {table} x WHERE x.{identifiers} ? (e->>'{identity}')))"
            ));
        }
        if mode == BulkMode::Lenient {
            for c in columns {
                if let Some(target) = c.refers_to {
                    conditions.push(format!(
                        "(e->>'{0}' IS NULL OR EXISTS (SELECT 1 FROM {target} y \
                         WHERE y.id = (e->>'{0}')::uuid))",
                        c.name
                    ));
                }
            }
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let on_conflict = match (identity, mode) {
            (Some(identity), BulkMode::IfNoneExist | BulkMode::Lenient) => {
                format!(" ON CONFLICT ({identity}) DO NOTHING")
            }
            _ => String::new(),
        };
        out.push(Statement {
            name: leak(bulk_name(r, mode)),
            sql: leak(format!(
                "INSERT INTO {table} ({}) SELECT {} FROM jsonb_array_elements($1) e{filter}\
                 {on_conflict} RETURNING {}",
                names.join(", "),
                values.join(", "),
                row_columns(r),
            )),
            access: Access::Write,
            scope: SchemaScope::Tenant,
            params: entries,
            audit: Some(Audit {
                action: "create",
                resource_type: r.name(),
            }),
        });
    }
    if let (Some(_), Some(identifiers)) = (identity, identifiers) {
        out.push(Statement {
            name: leak(statement_name(r, REFUSE_AMBIGUOUS)),
            // Runs first in a transaction: a condition matching several resources refuses
            // the whole batch (412) before anything is written.
            sql: leak(format!(
                "SELECT api_refuse('{AMBIGUOUS_RULE}', tok) AS refused \
                 FROM jsonb_array_elements_text($1) tok \
                 WHERE (SELECT count(*) FROM {table} x WHERE x.{identifiers} ? tok) > 1"
            )),
            access: Access::Read,
            scope: SchemaScope::Tenant,
            params: &[Param {
                name: "tokens",
                ty: ParamType::Jsonb,
                nullable: false,
            }],
            audit: None,
        });
        out.push(Statement {
            name: leak(match_name(r)),
            sql: leak(format!(
                "SELECT {}, {identifiers} AS tokens \
                 FROM {table} WHERE {identifiers} ?| ARRAY(SELECT jsonb_array_elements_text($1))",
                row_columns(r)
            )),
            access: Access::Read,
            scope: SchemaScope::Tenant,
            params: &[Param {
                name: "tokens",
                ty: ParamType::Jsonb,
                nullable: false,
            }],
            audit: Some(Audit {
                action: "search",
                resource_type: r.name(),
            }),
        });
    }
    out
}
