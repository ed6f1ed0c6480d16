//! The catalog of named statements: the only SQL the platform runs on behalf of the edge.
//!
//! Compiled into both the edge and `regional-db`. The edge sends a statement's name and
//! parameters, never SQL; the region looks the name up here, checks the parameters against
//! the declared types and runs the text below. [`version`] hashes the whole catalog and
//! travels with every call, so an edge and a region built from different catalogs refuse
//! each other (409) instead of running mismatched statements.
//!
//! Every statement's rows come back as JSON objects (the region runs
//! `WITH t AS (<sql>) SELECT to_jsonb(t) FROM t`), so writes must use `RETURNING`.

use std::sync::OnceLock;

/// Whether a statement changes data: writes run on the primary in one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// Which schema a statement runs in. Tenant statements run with `search_path` pinned to the
/// token's clinic; control statements are used by the region itself (the directory) and are
/// never accepted in a batch from the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaScope {
    Tenant,
    Control,
}

/// The Postgres type a parameter is bound as, and the JSON it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// JSON string.
    Text,
    /// JSON integer within i64.
    Int8,
    /// JSON string holding a UUID.
    Uuid,
    /// Any JSON value, bound as `jsonb`.
    Jsonb,
}

/// One declared parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub ty: ParamType,
    /// Whether JSON `null` is accepted (bound as SQL NULL).
    pub nullable: bool,
}

/// What the audit trail records when a statement touches health data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audit {
    /// The verb: `create`, `read`, `search`.
    pub action: &'static str,
    pub resource_type: &'static str,
}

/// A named statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement {
    pub name: &'static str,
    pub sql: &'static str,
    pub access: Access,
    pub scope: SchemaScope,
    pub params: &'static [Param],
    /// `Some` for statements over health data: the region appends an audit event (with the
    /// `id` of every returned row) in the same transaction.
    pub audit: Option<Audit>,
}

const fn p(name: &'static str, ty: ParamType) -> Param {
    Param {
        name,
        ty,
        nullable: false,
    }
}
const fn opt(name: &'static str, ty: ParamType) -> Param {
    Param {
        name,
        ty,
        nullable: true,
    }
}

/// Statement names, so callers never spell them twice.
pub mod names {
    pub const PATIENT_CREATE: &str = "patient.create";
    pub const PATIENT_READ: &str = "patient.read";
    pub const PATIENT_SEARCH: &str = "patient.search";
    pub const PATIENT_COUNT: &str = "patient.count";
    pub const DIRECTORY_BY_SLUG: &str = "directory.by_slug";
    pub const DIRECTORY_BY_DOMAIN: &str = "directory.by_domain";
}

/// The catalog. Order does not matter; names are unique (checked by a test).
pub static CATALOG: &[Statement] = &[
    Statement {
        name: names::PATIENT_CREATE,
        sql: "INSERT INTO patients (resource, family, given, birth_date, gender) \
              VALUES ($1, $2, $3, $4, $5) \
              RETURNING id, version_id, last_updated, resource",
        access: Access::Write,
        scope: SchemaScope::Tenant,
        params: &[
            p("resource", ParamType::Jsonb),
            opt("family", ParamType::Text),
            opt("given", ParamType::Text),
            opt("birth_date", ParamType::Text),
            opt("gender", ParamType::Text),
        ],
        audit: Some(Audit {
            action: "create",
            resource_type: "Patient",
        }),
    },
    Statement {
        name: names::PATIENT_READ,
        sql: "SELECT id, version_id, last_updated, resource FROM patients WHERE id = $1",
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[p("id", ParamType::Uuid)],
        audit: Some(Audit {
            action: "read",
            resource_type: "Patient",
        }),
    },
    Statement {
        name: names::PATIENT_SEARCH,
        // Keyset paging on `seq` (creation order): stable under concurrent inserts, and
        // O(page) however deep the client pages. One extra row tells if a next page exists.
        sql: "SELECT id, seq, version_id, last_updated, resource FROM patients \
              WHERE ($1::int8 IS NULL OR seq > $1) \
                AND ($2::text IS NULL OR lower(family) LIKE $2 || '%' OR lower(given) LIKE $2 || '%') \
                AND ($3::text IS NULL OR birth_date = $3) \
                AND ($4::text IS NULL OR gender = $4) \
              ORDER BY seq LIMIT $5",
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[
            opt("after_seq", ParamType::Int8),
            opt("name_prefix", ParamType::Text),
            opt("birth_date", ParamType::Text),
            opt("gender", ParamType::Text),
            p("limit", ParamType::Int8),
        ],
        audit: Some(Audit {
            action: "search",
            resource_type: "Patient",
        }),
    },
    Statement {
        name: names::PATIENT_COUNT,
        sql: "SELECT count(*) AS total FROM patients \
              WHERE ($1::text IS NULL OR lower(family) LIKE $1 || '%' OR lower(given) LIKE $1 || '%') \
                AND ($2::text IS NULL OR birth_date = $2) \
                AND ($3::text IS NULL OR gender = $3)",
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[
            opt("name_prefix", ParamType::Text),
            opt("birth_date", ParamType::Text),
            opt("gender", ParamType::Text),
        ],
        audit: None,
    },
    Statement {
        name: names::DIRECTORY_BY_SLUG,
        sql: "SELECT t.slug, t.name, t.country, t.home_region, t.default_locale, t.currency, t.plan, t.status, \
                     coalesce((SELECT array_agg(d.domain ORDER BY d.domain) FROM control.tenant_domains d \
                               WHERE d.slug = t.slug), '{}') AS domains \
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
                               WHERE d.slug = t.slug), '{}') AS domains \
              FROM control.tenants t JOIN control.tenant_domains x ON x.slug = t.slug WHERE x.domain = $1",
        access: Access::Read,
        scope: SchemaScope::Control,
        params: &[p("domain", ParamType::Text)],
        audit: None,
    },
];

/// The statement named `name`, if the catalog has it.
pub fn lookup(name: &str) -> Option<&'static Statement> {
    CATALOG.iter().find(|s| s.name == name)
}

/// A stable hash (FNV-1a 64, hex) of every statement's name, SQL, access, scope and
/// parameters. Not a security measure: a version check between two builds.
pub fn version() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |s: &str| {
            for b in s.bytes().chain([0xff]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        };
        for s in CATALOG {
            feed(s.name);
            feed(s.sql);
            feed(&format!(
                "{:?}{:?}{:?}{:?}",
                s.access, s.scope, s.params, s.audit
            ));
        }
        format!("{h:016x}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_params_match_placeholders() {
        for (i, s) in CATALOG.iter().enumerate() {
            assert!(
                CATALOG[i + 1..].iter().all(|o| o.name != s.name),
                "duplicate {}",
                s.name
            );
            // Every $n up to the declared count appears, and none beyond it.
            for n in 1..=s.params.len() {
                assert!(s.sql.contains(&format!("${n}")), "{} lacks ${n}", s.name);
            }
            assert!(
                !s.sql.contains(&format!("${}", s.params.len() + 1)),
                "{} has an undeclared param",
                s.name
            );
            if s.access == Access::Write {
                assert!(s.sql.contains("RETURNING"), "{} must return rows", s.name);
            }
        }
    }

    #[test]
    fn version_is_stable_hex() {
        assert_eq!(version().len(), 16);
        assert_eq!(version(), version());
        assert!(lookup(names::PATIENT_CREATE).is_some());
        assert!(lookup("patient.drop").is_none());
    }
}
