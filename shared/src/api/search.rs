//! Search: the parameters a resource declares ([`Match`]), their SQL conditions, the
//! parsing of a query string into statement parameters, paging cursors and the links of a
//! `searchset` Bundle. One implementation for every resource.
//!
//! FHIR's lenient handling: parameters a type does not declare are ignored, and the `self`
//! link says which ones were applied. A declared parameter with a value it cannot take is
//! 400, naming it. Paging is by keyset on creation order (`_cursor`, opaque), never by
//! offset: deep pages cost what the first does and stay stable under concurrent inserts.

use serde_json::{Value, json};

use super::{
    error::ApiError,
    resource::{Resource, Sort},
};
use crate::{
    dataplane::statement::{Param, ParamType},
    fhir::{
        Issue, IssueCode,
        datatypes::{ValueSet, is_fhir_date},
    },
};

/// Page size when `_count` is absent, and the most a page may hold.
pub const DEFAULT_COUNT: u32 = 20;
pub const MAX_COUNT: u32 = 100;
/// Longest accepted search value.
const MAX_VALUE_CHARS: usize = 100;

use crate::fhir::dates;

/// A search parameter: its name in the query string and how it matches.
#[derive(Debug, Clone, Copy)]
pub struct SearchParam {
    pub name: &'static str,
    pub kind: Match,
    /// For the CapabilityStatement.
    pub documentation: &'static str,
}

/// How a search parameter matches, and over which of the resource's columns.
#[derive(Debug, Clone, Copy)]
pub enum Match {
    /// `string`: case-insensitive prefix of any of these text columns.
    Prefix(&'static [&'static str]),
    /// `token`: one code of `codes`, equal to a text column.
    Code {
        column: &'static str,
        codes: &'static ValueSet,
    },
    /// `token`: `system|value`, `|value` (no system) or `value` (any system) against a
    /// jsonb array of `system|value` strings ([`identifier_tokens`]).
    Identifier(&'static str),
    /// `token`, as [`Match::Identifier`], against a jsonb array of blind indexes
    /// ([`blind_identifier_tokens`], each replaced by the region with its HMAC): an exact
    /// match, with no stored value readable. `system|value`, `|value` and `value` each
    /// match the token built for that form.
    BlindIdentifier(&'static str),
    /// `token`: `true` or `false`, against a boolean column.
    Boolean(&'static str),
    /// `date`: a FHIR date (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`) equal to a text column; no
    /// prefixes.
    DateExact(&'static str),
    /// `reference`: `Type/id`, `id` or an absolute URL ending in `Type/id`, of a `target`
    /// resource, equal to a uuid column.
    Reference {
        column: &'static str,
        target: &'static str,
    },
    /// `reference`, one hop away: the row's `column` points into `table`, whose `through`
    /// column must be the `target` resource given (a Slot's `practitioner` is its
    /// schedule's).
    Via {
        column: &'static str,
        table: &'static str,
        through: &'static str,
        target: &'static str,
    },
    /// `date`: instants in a timestamptz column against the range of each value given
    /// (prefix `eq` by default, `ge`, `gt`, `le`, `lt`; a date is the whole day, UTC);
    /// repeatable, the ranges intersect (`start=ge2026-12-01&start=lt2026-12-08`).
    DateRange(&'static str),
    /// `_id`, which every resource answers.
    Id,
}

/// What a search parameter's values bind to.
#[derive(Debug, Clone, PartialEq)]
enum Bound {
    /// The statement parameters.
    Values(Vec<Value>),
    /// Nothing can match (an id or reference that is none of ours, an empty range).
    Nothing,
}

impl Match {
    /// The FHIR search parameter type, for the CapabilityStatement.
    pub fn fhir_type(self) -> &'static str {
        match self {
            Self::Prefix(_) => "string",
            Self::Code { .. }
            | Self::Identifier(_)
            | Self::BlindIdentifier(_)
            | Self::Boolean(_)
            | Self::Id => "token",
            Self::DateExact(_) | Self::DateRange(_) => "date",
            Self::Reference { .. } | Self::Via { .. } => "reference",
        }
    }

    /// The columns of the resource's own table it reads (for the registry's checks).
    pub fn columns(self) -> Vec<&'static str> {
        match self {
            Self::Prefix(columns) => columns.to_vec(),
            Self::Code { column, .. }
            | Self::Identifier(column)
            | Self::BlindIdentifier(column)
            | Self::Boolean(column)
            | Self::DateExact(column)
            | Self::Reference { column, .. }
            | Self::Via { column, .. }
            | Self::DateRange(column) => vec![column],
            Self::Id => vec!["id"],
        }
    }

    /// Whether the parameter may be given more than once.
    fn repeatable(self) -> bool {
        matches!(self, Self::DateRange(_))
    }

    /// The statement parameters its values bind as.
    fn params(self, name: &'static str) -> Vec<Param> {
        let param = |ty| Param {
            name,
            ty,
            nullable: true,
        };
        match self {
            Self::DateRange(_) => {
                vec![param(ParamType::Timestamptz), param(ParamType::Timestamptz)]
            }
            Self::Reference { .. } | Self::Via { .. } | Self::Id => vec![param(ParamType::Uuid)],
            Self::BlindIdentifier(_) => vec![param(ParamType::BlindToken)],
            _ => vec![param(ParamType::Text)],
        }
    }

    /// `AND (…)` over the placeholders from `$n`.
    fn condition(self, n: usize) -> String {
        match self {
            Self::Prefix(columns) => {
                let any: Vec<String> = columns
                    .iter()
                    .map(|c| format!("lower({c}) LIKE ${n} || '%'"))
                    .collect();
                format!(" AND (${n}::text IS NULL OR {})", any.join(" OR "))
            }
            Self::Code { column, .. } | Self::DateExact(column) => {
                format!(" AND (${n}::text IS NULL OR {column} = ${n})")
            }
            Self::Boolean(column) => {
                format!(" AND (${n}::text IS NULL OR {column} = ${n}::boolean)")
            }
            // A value with a `|` is one whole token; without, it matches any system.
            Self::Identifier(column) => format!(
                " AND (${n}::text IS NULL OR {column} ? ${n} OR (strpos(${n}, '|') = 0 AND \
                 EXISTS (SELECT 1 FROM jsonb_array_elements_text({column}) t \
                         WHERE substr(t, strpos(t, '|') + 1) = ${n})))"
            ),
            Self::BlindIdentifier(column) => {
                format!(" AND (${n}::text IS NULL OR {column} ? ${n})")
            }
            Self::Reference { column, .. } => {
                format!(" AND (${n}::uuid IS NULL OR {column} = ${n})")
            }
            Self::Id => format!(" AND (${n}::uuid IS NULL OR id = ${n})"),
            Self::Via {
                column,
                table,
                through,
                ..
            } => format!(
                " AND (${n}::uuid IS NULL OR {column} IN (SELECT id FROM {table} WHERE {through} = ${n}))"
            ),
            Self::DateRange(column) => {
                let hi = n + 1;
                format!(
                    " AND (${n}::timestamptz IS NULL OR {column} >= ${n}) \
                     AND (${hi}::timestamptz IS NULL OR {column} < ${hi})"
                )
            }
        }
    }

    /// The bound values of the values given (one unless [`Match::repeatable`]), or why
    /// they cannot be bound.
    fn bind(self, name: &str, given: &[String]) -> Result<Bound, String> {
        for v in given {
            if v.is_empty() || v.chars().count() > MAX_VALUE_CHARS {
                return Err(format!(
                    "{name} must hold 1 to {MAX_VALUE_CHARS} characters"
                ));
            }
        }
        let v = given.first().map(String::as_str).unwrap_or_default();
        let one = |value: Value| Ok(Bound::Values(vec![value]));
        match self {
            // LIKE metacharacters are matched literally.
            Self::Prefix(_) => one(json!(
                v.to_lowercase()
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            )),
            Self::Code { codes, .. } => {
                if codes.contains(v) {
                    one(json!(v))
                } else {
                    Err(format!("{name} must be a code of {}", codes.name))
                }
            }
            Self::Boolean(_) => match v {
                "true" | "false" => one(json!(v)),
                _ => Err(format!("{name} must be true or false")),
            },
            Self::DateExact(_) => {
                if is_fhir_date(v) {
                    one(json!(v))
                } else {
                    Err(format!(
                        "{name} must be a date (YYYY, YYYY-MM or YYYY-MM-DD); prefixes are not supported"
                    ))
                }
            }
            Self::Identifier(_) => one(json!(v)),
            Self::BlindIdentifier(_) => one(json!(match v.split_once('|') {
                Some(_) => exact_token(v),
                None => any_system_token(v),
            })),
            Self::Id => Ok(
                super::parse_uuid(v).map_or(Bound::Nothing, |id| Bound::Values(vec![json!(id)]))
            ),
            Self::Reference { target, .. } | Self::Via { target, .. } => {
                Ok(reference_id(v, target)
                    .map_or(Bound::Nothing, |id| Bound::Values(vec![json!(id)])))
            }
            Self::DateRange(_) => {
                let mut range = (None, None);
                for v in given {
                    let (lo, hi) = dates::bounds(v).map_err(|e| format!("{name}: {e}"))?;
                    range.0 = range.0.max(lo);
                    range.1 = match (range.1, hi) {
                        (Some(a), Some(b)) => Some(std::cmp::min(a, b)),
                        (a, b) => a.or(b),
                    };
                }
                if let (Some(lo), Some(hi)) = range
                    && lo >= hi
                {
                    return Ok(Bound::Nothing);
                }
                let instant = |t: Option<dates::Instant>| {
                    t.map_or(Value::Null, |t| json!(dates::to_rfc3339(t)))
                };
                Ok(Bound::Values(vec![instant(range.0), instant(range.1)]))
            }
        }
    }
}

/// The id a reference search value names, if it is a `target` of ours: `Type/id`, `id`
/// alone, or an absolute URL ending in `Type/id`.
pub fn reference_id(value: &str, target: &str) -> Option<String> {
    let mut parts = value.rsplit('/');
    let id = parts.next()?;
    match parts.next() {
        None => super::parse_uuid(id),
        Some(t) if t == target => super::parse_uuid(id),
        Some(_) => None,
    }
}

/// The `_id` parameter every resource answers, after its own.
static ID: SearchParam = SearchParam {
    name: "_id",
    kind: Match::Id,
    documentation: "The resource's id.",
};

/// Every search parameter of `r`: its own, then `_id`.
pub fn params_of(r: &dyn Resource) -> impl Iterator<Item = &'static SearchParam> {
    r.search_params().iter().chain(std::iter::once(&ID))
}

/// The `system|value` strings a search by identifier matches, of a resource's
/// `identifier` array: the column [`Match::Identifier`] reads.
pub fn identifier_tokens(identifiers: Option<&Value>) -> Value {
    let tokens: Vec<String> = system_values(identifiers)
        .map(|(system, value)| format!("{system}|{value}"))
        .collect();
    json!(tokens)
}

/// The (system, value) of each identifier of an `identifier` array that has a value; the
/// system is empty when there is none.
fn system_values(identifiers: Option<&Value>) -> impl Iterator<Item = (&str, &str)> {
    identifiers
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .filter_map(|i| {
            let value = i.get("value")?.as_str()?;
            Some((i.get("system").and_then(Value::as_str).unwrap_or(""), value))
        })
}

/// The token of an identifier `system|value` (`|value` without a system), before the
/// region blinds it. Exact and any-system tokens start differently: they never collide.
fn exact_token(system_value: &str) -> String {
    format!("={system_value}")
}

/// The token of an identifier's value, whatever its system.
fn any_system_token(value: &str) -> String {
    format!("*{value}")
}

/// The tokens a [`Match::BlindIdentifier`] search matches, of a resource's `identifier`
/// array: for each identifier with a value, its exact token and its any-system token.
/// Sent in clear to the region (like the resource itself), which stores only their HMACs.
pub fn blind_identifier_tokens(identifiers: Option<&Value>) -> Value {
    let tokens: Vec<String> = system_values(identifiers)
        .flat_map(|(system, value)| {
            [
                exact_token(&format!("{system}|{value}")),
                any_system_token(value),
            ]
        })
        .collect();
    json!(tokens)
}

/// The `system|code` strings a token search matches, of a CodeableConcept or an array of
/// them (`Observation.code`, `Consent.category`): the column [`Match::Identifier`] reads,
/// built as [`identifier_tokens`] builds an identifier's.
pub fn coding_tokens(concepts: Option<&Value>) -> Value {
    let concepts: Vec<&Value> = match concepts {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(c) => vec![c],
        None => Vec::new(),
    };
    let codings: Vec<Value> = concepts
        .iter()
        .filter_map(|c| c.get("coding").and_then(Value::as_array))
        .flatten()
        .filter_map(|c| Some(json!({"system": c.get("system")?, "value": c.get("code")?})))
        .collect();
    identifier_tokens(Some(&Value::Array(codings)))
}

/// The SQL conditions of `r`'s search parameters ([`params_of`]), numbered from `$first`,
/// and their statement parameters.
pub(super) fn filters(r: &dyn Resource, first: usize) -> (String, Vec<Param>) {
    let mut sql = String::new();
    let mut params = Vec::new();
    for p in params_of(r) {
        sql.push_str(&p.kind.condition(first + params.len()));
        params.extend(p.kind.params(p.name));
    }
    (sql, params)
}

/// A parsed search: what the statements bind and what the links repeat.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub count: u32,
    /// Where the page starts: after this position, exclusive.
    pub after: Option<Cursor>,
    /// `_sort`: one of the resource's [`Sort`]s and whether descending; `None` is creation
    /// order.
    pub sort: Option<(Sort, bool)>,
    /// The bound values of every parameter of [`params_of`] (`null`s when absent).
    pub filters: Vec<Value>,
    /// A value no resource of ours can match: no call is needed.
    pub matches_nothing: bool,
    /// The applied parameters as given, in declaration order, for the links.
    applied: Vec<(&'static str, String)>,
}

fn bad(param: &str, message: String) -> ApiError {
    ApiError::BadRequest(vec![
        Issue::new(IssueCode::Value, message).at(param.to_owned()),
    ])
}

/// Parses `query` as a search of `r`.
pub fn parse(r: &dyn Resource, query: Option<&str>) -> Result<Search, ApiError> {
    let declared: Vec<&'static SearchParam> = params_of(r).collect();
    let mut s = Search {
        count: DEFAULT_COUNT,
        after: None,
        sort: None,
        filters: Vec::new(),
        matches_nothing: false,
        applied: Vec::new(),
    };
    let mut given: Vec<Vec<String>> = vec![Vec::new(); declared.len()];
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "_count" => {
                let n: u32 = v
                    .parse()
                    .map_err(|_| bad("_count", "_count must be a non-negative integer".into()))?;
                s.count = n.min(MAX_COUNT);
            }
            "_cursor" => {
                s.after = Some(Cursor::decode(&v).ok_or_else(|| {
                    bad(
                        "_cursor",
                        "_cursor is not a cursor this server issued".into(),
                    )
                })?)
            }
            "_sort" => {
                let (desc, name) = match v.strip_prefix('-') {
                    Some(name) => (true, name),
                    None => (false, v.as_ref()),
                };
                let sort = r.sorts().iter().find(|s| s.name == name).ok_or_else(|| {
                    let known: Vec<String> = r
                        .sorts()
                        .iter()
                        .flat_map(|s| [s.name.to_owned(), format!("-{}", s.name)])
                        .collect();
                    bad(
                        "_sort",
                        if known.is_empty() {
                            format!("{} results come in creation order only", r.name())
                        } else {
                            format!("_sort must be one of {}", known.join(", "))
                        },
                    )
                })?;
                s.sort = Some((*sort, desc));
            }
            name => {
                // Undeclared parameters are ignored (FHIR lenient handling).
                let Some(at) = declared.iter().position(|p| p.name == name) else {
                    continue;
                };
                if !given[at].is_empty() && !declared[at].kind.repeatable() {
                    return Err(bad(
                        name,
                        format!("{name} is given more than once; give it once"),
                    ));
                }
                given[at].push(v.trim().to_owned());
            }
        }
    }
    // A cursor belongs to the order it was issued in.
    if s.after
        .as_ref()
        .is_some_and(|c| c.key.is_some() != s.sort.is_some())
    {
        return Err(bad(
            "_cursor",
            "_cursor was issued for another _sort: follow the links as given".into(),
        ));
    }
    for (p, values) in declared.iter().zip(&given) {
        if values.is_empty() {
            s.filters
                .extend(p.kind.params(p.name).iter().map(|_| Value::Null));
            continue;
        }
        match p.kind.bind(p.name, values).map_err(|m| bad(p.name, m))? {
            Bound::Values(v) => s.filters.extend(v),
            Bound::Nothing => {
                s.matches_nothing = true;
                s.filters
                    .extend(p.kind.params(p.name).iter().map(|_| Value::Null));
            }
        }
        s.applied.extend(values.iter().map(|v| (p.name, v.clone())));
    }
    Ok(s)
}

impl Search {
    /// The query string of this search at `cursor`, as the links give it.
    pub fn query(&self, cursor: Option<&Cursor>) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("_count", &self.count.to_string());
        if let Some((sort, desc)) = &self.sort {
            let dir = if *desc { "-" } else { "" };
            q.append_pair("_sort", &format!("{dir}{}", sort.name));
        }
        for (name, value) in &self.applied {
            q.append_pair(name, value);
        }
        if let Some(c) = cursor {
            q.append_pair("_cursor", &c.encode());
        }
        q.finish()
    }
}

const CURSOR_ENGINE: base64::engine::GeneralPurpose =
    base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A position in a result list: the last row's seq, and its sort key when sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The sort key (an RFC 3339 instant), for a sorted search.
    pub key: Option<String>,
    pub seq: i64,
}

impl Cursor {
    /// Opaque to clients: base64url of `seq:<n>` or `key:<instant>|seq:<n>`.
    pub fn encode(&self) -> String {
        use base64::Engine as _;
        let raw = match &self.key {
            None => format!("seq:{}", self.seq),
            Some(k) => format!("key:{k}|seq:{}", self.seq),
        };
        CURSOR_ENGINE.encode(raw)
    }

    fn decode(c: &str) -> Option<Self> {
        use base64::Engine as _;
        let raw = String::from_utf8(CURSOR_ENGINE.decode(c).ok()?).ok()?;
        let (key, seq) = match raw.strip_prefix("key:") {
            Some(rest) => {
                let (key, seq) = rest.split_once('|')?;
                dates::instant(key)?;
                (Some(key.to_owned()), seq)
            }
            None => (None, raw.as_str()),
        };
        let seq = seq
            .strip_prefix("seq:")?
            .parse()
            .ok()
            .filter(|s: &i64| *s >= 0)?;
        Some(Self { key, seq })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resources::patient::Patient;

    #[test]
    fn search_parameters() {
        fn p(q: Option<&str>) -> Result<Search, ApiError> {
            parse(&Patient, q)
        }
        assert_eq!(p(None).unwrap().count, DEFAULT_COUNT);
        assert_eq!(p(Some("_count=1000")).unwrap().count, MAX_COUNT);
        assert_eq!(p(Some("_count=0")).unwrap().count, 0);
        for bad in [
            "_count=-1",
            "_count=x",
            "_cursor=zzz",
            "gender=F",
            "birthdate=ge2000",
            "name=",
            "name=a&name=b",
        ] {
            assert!(
                matches!(p(Some(bad)), Err(ApiError::BadRequest(_))),
                "{bad}"
            );
        }
        let s = p(Some("name=50%25_off&unknown=1")).unwrap();
        assert_eq!(s.filters[0], json!("50\\%\\_off"));
        assert_eq!(s.query(None), "_count=20&name=50%25_off");
        let c = Cursor { key: None, seq: 42 };
        assert_eq!(Cursor::decode(&c.encode()), Some(c.clone()));
        assert_eq!(
            p(Some(&format!("_cursor={}", c.encode()))).unwrap().after,
            Some(c)
        );
        let keyed = Cursor {
            key: Some("2026-12-01T08:00:00+00:00".into()),
            seq: 7,
        };
        assert_eq!(Cursor::decode(&keyed.encode()), Some(keyed.clone()));
        assert!(
            matches!(
                p(Some(&format!("_cursor={}", keyed.encode()))),
                Err(ApiError::BadRequest(_))
            ),
            "a sorted cursor in an unsorted search"
        );
        assert!(
            matches!(p(Some("_sort=-date")), Err(ApiError::BadRequest(_))),
            "Patient has no date sort"
        );
        let s = p(Some("_id=not-ours")).unwrap();
        assert!(s.matches_nothing);
        let s = p(Some("_id=5B0C1A2E-1111-4222-8333-444455556666")).unwrap();
        assert_eq!(
            s.filters.last().unwrap(),
            &json!("5b0c1a2e-1111-4222-8333-444455556666")
        );
    }

    #[test]
    fn blind_tokens_match_each_search_form() {
        let ids = json!([{"system": "urn:a", "value": "1"}, {"value": "2"}]);
        let stored = blind_identifier_tokens(Some(&ids));
        assert_eq!(stored, json!(["=urn:a|1", "*1", "=|2", "*2"]));
        let m = Match::BlindIdentifier("identifiers");
        for (query, hits) in [
            ("urn:a|1", true),
            ("1", true),
            ("|2", true),
            ("2", true),
            ("|1", false),
            ("urn:b|1", false),
            ("urn:a|2", false),
        ] {
            let Ok(Bound::Values(v)) = m.bind("identifier", &[query.to_owned()]) else {
                panic!("{query} binds");
            };
            assert_eq!(stored.as_array().unwrap().contains(&v[0]), hits, "{query}");
        }
    }

    #[test]
    fn identifier_tokens_keep_the_system() {
        let ids = json!([{"system": "urn:a", "value": "1"}, {"value": "2"}, {"system": "x"}]);
        assert_eq!(identifier_tokens(Some(&ids)), json!(["urn:a|1", "|2"]));
        assert_eq!(identifier_tokens(None), json!([]));
    }
}
