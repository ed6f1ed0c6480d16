//! The catalog of named statements: the only SQL the platform runs on behalf of the edge.
//!
//! Compiled into both the edge and `regional-db`. The edge sends a statement's name and
//! parameters, never SQL; the region looks the name up here, checks the parameters against
//! the declared types and runs the text below. [`version`] hashes the whole catalog and
//! travels with every call, so an edge and a region built from different catalogs refuse
//! each other (409) instead of running mismatched statements.
//!
//! Every statement's rows come back as JSON objects (the region runs
//! [`envelope::json_rows`] of it), so writes must use `RETURNING`. The few statements the
//! region runs around them in a batch (schema pinning, the audit trail) are in [`envelope`].

use std::sync::OnceLock;

pub use super::statement::{
    Access, Audit, Param, ParamType, SEALED_COLUMN, SchemaScope, Statement, opt, p,
};

/// Statement names callers spell: the directory's, and Patient's (derived from the type,
/// `patient.<verb>`, by [`crate::api::resource`]; a test checks each is in the catalog).
pub mod names {
    pub const PATIENT_CREATE: &str = "patient.create";
    pub const PATIENT_READ: &str = "patient.read";
    pub const PATIENT_SEARCH: &str = "patient.search";
    pub const PATIENT_COUNT: &str = "patient.count";
    pub const DIRECTORY_BY_SLUG: &str = "directory.by_slug";
    pub const DIRECTORY_BY_DOMAIN: &str = "directory.by_domain";
}

/// The control plane's statements: the directory, which regions answer themselves and
/// never accept in a batch from the edge.
pub static CONTROL: &[Statement] = &[
    Statement {
        name: names::DIRECTORY_BY_SLUG,
        sql: "SELECT t.slug, t.name, t.country, t.home_region, t.default_locale, t.currency, t.plan, t.status, \
                     coalesce((SELECT array_agg(d.domain ORDER BY d.domain) FROM control.tenant_domains d \
                               WHERE d.slug = t.slug AND d.verified_at IS NOT NULL), '{}') AS domains \
              FROM control.tenants t WHERE t.slug = $1",
        access: Access::Read,
        scope: SchemaScope::Control,
        params: &[p("slug", ParamType::Text)],
        audit: None,
    },
    Statement {
        name: names::DIRECTORY_BY_DOMAIN,
        sql: "SELECT t.slug, t.name, t.country, t.home_region, t.default_locale, t.currency, t.plan, t.status, \
                     coalesce((SELECT array_agg(d.domain ORDER BY d.domain) FROM control.tenant_domains d \
                               WHERE d.slug = t.slug AND d.verified_at IS NOT NULL), '{}') AS domains \
              FROM control.tenants t JOIN control.tenant_domains x ON x.slug = t.slug \
              WHERE x.domain = $1 AND x.verified_at IS NOT NULL",
        access: Access::Read,
        scope: SchemaScope::Control,
        params: &[p("domain", ParamType::Text)],
        audit: None,
    },
];

/// The whole catalog: every registered resource's statements
/// ([`crate::api::resources::statements`]), `Patient/$erase`'s (built from the policies:
/// [`crate::api::erase::statements`]), the accounts' ([`crate::accounts::statements`]),
/// billing's ([`crate::billing::statements`]), the marketplace's ([`crate::apps::statements`]),
/// the webhooks' ([`crate::webhooks::statements`]), the pages' ([`crate::web::statements`]),
/// then [`CONTROL`]. Built once per process; names are unique (checked by a test).
pub fn all() -> &'static [Statement] {
    static ALL: OnceLock<Vec<Statement>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all = crate::api::resources::statements();
        all.extend(crate::api::erase::statements());
        all.extend(crate::accounts::statements());
        all.extend(crate::billing::statements());
        all.extend(crate::apps::statements());
        all.extend(crate::web::statements());
        all.extend(crate::webhooks::statements());
        all.extend_from_slice(CONTROL);
        all
    })
}

/// The statement named `name`, if the catalog has it.
pub fn lookup(name: &str) -> Option<&'static Statement> {
    all().iter().find(|s| s.name == name)
}

/// A stable hash (FNV-1a 64, hex) of every statement's name, SQL, access, scope,
/// parameters and audit, in catalog order. Not a security measure: a version check between
/// two builds. Computed once per process.
pub fn version() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| version_of(all()))
}

/// [`version`] of any list of statements (tests hash edited copies of the catalog).
fn version_of(statements: &[Statement]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |s: &str| {
        for b in s.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for s in statements {
        feed(s.name);
        feed(s.sql);
        feed(&format!(
            "{:?}{:?}{:?}{:?}",
            s.access, s.scope, s.params, s.audit
        ));
    }
    format!("{h:016x}")
}

/// The SQL `regional-db` runs around the catalog's statements in a batch's transaction:
/// the schema pinning before them, the JSON row encoding of each, the audit trail after
/// those over health data.
///
/// Defined here, once, because two programs run it: `regional-db` (`db::run_batch`) and
/// `cargo xtask bench`, which sends the very same transaction through PgBouncer to measure
/// what `regional-db` adds. Both already depend on this crate; `xtask` depending on
/// `regional-db` instead would build axum, deadpool and prometheus into every `cargo xtask`
/// (and `regional-db` dev-depends on `xtask`). Like the catalog it is plain text, which
/// costs the edge nothing. The rest of `regional-db`'s own SQL (idempotency keys, WAL
/// positions, migrations) stays in `regional-db`: nothing else runs it.
pub mod envelope {
    use crate::tenant::TenantSlug;

    /// Pins the current transaction to a clinic's schema: `$1` is [`search_path_for`] the
    /// clinic. A bound parameter of `set_config(…, is_local = true)`: the same as
    /// `SET LOCAL search_path` without building SQL text, and undone at commit or rollback,
    /// so a pooled connection never keeps it.
    pub const PIN_SCHEMA_SQL: &str = "SELECT set_config('search_path', $1, true)";

    /// Appends one audit event per returned resource of one statement, in the batch's
    /// transaction: `$1` actor, `$2` action, `$3` statement name, `$4` resource type (all
    /// text; the last three from the statement's [`Audit`](super::Audit)), `$5` the ids
    /// (`text[]`, one `NULL` for a statement that returned nothing), `$6` where the edge
    /// runs (nullable), `$7` the outcome (`ok`, or the wire code of a refused batch). The
    /// table is made by `regional_db/migrations/tenant`, whose trigger chains each record
    /// to the clinic's previous one (`0010_audit_chain.sql`).
    pub const AUDIT_SQL: &str = "INSERT INTO audit_events \
                                 (actor, action, statement, resource_type, resource_id, edge, outcome) \
                                 SELECT $1, $2, $3, $4, unnest($5::text[]), $6, $7";

    /// A catalog statement as run: each row comes back as one JSON object keyed by column.
    pub fn json_rows(statement_sql: &str) -> String {
        format!("WITH t AS ({statement_sql}) SELECT to_jsonb(t) FROM t")
    }

    /// `ident` as a quoted SQL identifier: `"` doubled, the whole in double quotes. Schema
    /// names come from validated slugs, but are quoted everywhere all the same.
    pub fn quote_ident(ident: &str) -> String {
        format!("\"{}\"", ident.replace('"', "\"\""))
    }

    /// The `search_path` value that pins a transaction to `slug`'s schema, and only it
    /// (`pg_catalog` is always searched first by Postgres; `public` is not searched at all).
    pub fn search_path_for(slug: &TenantSlug) -> String {
        quote_ident(&slug.schema_name())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The `$n` placeholders of `sql`, each number read whole: `$10` is 10, never also 1.
    fn placeholders(sql: &str) -> BTreeSet<usize> {
        let mut found = BTreeSet::new();
        let mut rest = sql;
        while let Some(at) = rest.find('$') {
            rest = &rest[at + 1..];
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits > 0 {
                found.insert(rest[..digits].parse().expect("ASCII digits"));
            }
            rest = &rest[digits..];
        }
        found
    }

    #[test]
    fn placeholders_are_read_whole() {
        assert_eq!(
            placeholders("SELECT $10, $1::int8, '$', $ x, $2||$3"),
            BTreeSet::from([1, 2, 3, 10])
        );
        assert_eq!(placeholders("SELECT 1"), BTreeSet::new());
    }

    #[test]
    fn names_are_unique_and_params_match_placeholders() {
        for (i, s) in all().iter().enumerate() {
            assert!(
                all()[i + 1..].iter().all(|o| o.name != s.name),
                "duplicate {}",
                s.name
            );
            // Exactly $1..=$n for n declared parameters: none missing, none beyond.
            assert_eq!(
                placeholders(s.sql),
                (1..=s.params.len()).collect::<BTreeSet<_>>(),
                "{}: placeholders against {} declared params",
                s.name,
                s.params.len()
            );
            if s.access == Access::Write {
                // A write returns its rows: `RETURNING`, or a function's rows (`$erase`).
                assert!(
                    s.sql.contains("RETURNING") || s.sql.starts_with("SELECT "),
                    "{} must return rows",
                    s.name
                );
            }
            assert_eq!(lookup(s.name), Some(s), "{} is found by its name", s.name);
        }
        assert_eq!(lookup("patient.drop"), None);
    }

    /// A catalog edited in one way: `edit` gets a copy of the first statement.
    fn edited(edit: impl FnOnce(&mut Statement)) -> String {
        let mut copy = all().to_vec();
        edit(&mut copy[0]);
        version_of(&copy)
    }

    /// The first statement's parameters, edited (leaked: a `Statement` holds `'static` ones).
    fn params_edited(edit: impl FnOnce(&mut Vec<Param>)) -> &'static [Param] {
        let mut params = all()[0].params.to_vec();
        edit(&mut params);
        Box::leak(params.into_boxed_slice())
    }

    #[test]
    fn version_is_the_catalogs_hash_and_changes_with_any_statement() {
        let v = version();
        assert_eq!(v.len(), 16, "{v}");
        assert!(
            v.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
            "{v}"
        );
        // The cached value is the hash of the catalog, computed again here past the cache.
        assert_eq!(v, version_of(all()));

        // Each edit below changes something only if the first statement has it.
        assert!(!all()[0].params.is_empty() && all()[0].audit.is_some());
        let variants = [
            ("name", edited(|s| s.name = "patient.create.v2")),
            ("sql", edited(|s| s.sql = "SELECT 1")),
            ("sql spacing", edited(|s| s.sql = "SELECT  1")),
            (
                "access",
                edited(|s| {
                    s.access = match s.access {
                        Access::Read => Access::Write,
                        Access::Write => Access::Read,
                    }
                }),
            ),
            (
                "scope",
                edited(|s| {
                    s.scope = match s.scope {
                        SchemaScope::Tenant => SchemaScope::Control,
                        SchemaScope::Control => SchemaScope::Tenant,
                    }
                }),
            ),
            (
                "a param's name",
                edited(|s| s.params = params_edited(|p| p[0].name = "renamed")),
            ),
            (
                "a param's type",
                edited(|s| {
                    s.params = params_edited(|p| {
                        p[0].ty = if p[0].ty == ParamType::Text {
                            ParamType::Jsonb
                        } else {
                            ParamType::Text
                        }
                    })
                }),
            ),
            (
                "a param's nullability",
                edited(|s| s.params = params_edited(|p| p[0].nullable = !p[0].nullable)),
            ),
            (
                "one param fewer",
                edited(|s| s.params = params_edited(|p| p.truncate(p.len() - 1))),
            ),
            ("audit", edited(|s| s.audit = None)),
            (
                "audit action",
                edited(|s| {
                    s.audit = s.audit.map(|a| Audit {
                        action: "export",
                        ..a
                    })
                }),
            ),
            ("order", {
                let mut copy = all().to_vec();
                copy.swap(0, 1);
                version_of(&copy)
            }),
            ("a statement fewer", version_of(&all()[1..])),
        ];
        let mut seen = BTreeSet::from([v.to_owned()]);
        for (what, changed) in variants {
            assert!(
                seen.insert(changed.clone()),
                "changing the {what} gives {changed}, seen before"
            );
        }
    }

    /// The hash is FNV-1a 64 over each statement's name, SQL and the `Debug` text of the
    /// rest, each followed by 0xff: an edge and a region built apart (wasm and native, other
    /// compilers) must agree on it. The expected values were computed outside Rust
    /// (Python, from that description).
    #[test]
    fn version_is_fnv1a_64_of_the_documented_fields() {
        const READ: Statement = Statement {
            name: "t.read",
            sql: "SELECT $1",
            access: Access::Read,
            scope: SchemaScope::Tenant,
            params: &[Param {
                name: "id",
                ty: ParamType::Uuid,
                nullable: false,
            }],
            audit: Some(Audit {
                action: "read",
                resource_type: "Patient",
            }),
        };
        const WRITE: Statement = Statement {
            name: "t.write",
            sql: "INSERT INTO t DEFAULT VALUES RETURNING 1",
            access: Access::Write,
            scope: SchemaScope::Control,
            params: &[],
            audit: None,
        };
        assert_eq!(
            version_of(&[]),
            "cbf29ce484222325",
            "the FNV-1a 64 offset basis"
        );
        assert_eq!(version_of(&[READ, WRITE]), "8969114653c916d5");
        assert_eq!(version_of(&[WRITE, READ]), "d578a9e573ff9d83");
    }

    #[test]
    fn envelope_statements_bind_what_their_callers_pass() {
        // regional-db and the bench bind one search path, and seven audit values.
        assert_eq!(placeholders(envelope::PIN_SCHEMA_SQL), BTreeSet::from([1]));
        assert_eq!(placeholders(envelope::AUDIT_SQL), (1..=7).collect());
    }

    #[test]
    fn identifiers_are_quoted_and_escaped() {
        use envelope::{quote_ident, search_path_for};
        assert_eq!(
            quote_ident("tenant_hopital_paris"),
            "\"tenant_hopital_paris\""
        );
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(
            quote_ident("x\"; DROP SCHEMA control; --"),
            "\"x\"\"; DROP SCHEMA control; --\""
        );
        let slug: crate::tenant::TenantSlug = "hopital-paris".parse().unwrap();
        assert_eq!(search_path_for(&slug), "\"tenant_hopital_paris\"");
    }
}
