//! The edge→region protocol of operator requests: one call per operation.
//!
//! ```text
//! POST /v1/ops/sign-in   edge token (no clinic, no operator)      SignInRequest
//!   → 200 OperatorSignIn                                          (control plane's region)
//! POST /v1/ops           edge token with `operator` (no clinic)    OpsRequest
//!   → 200 OpsAnswer: {"ok": OpsResult} | {"refused": OpsRefusal}
//! ```
//!
//! Both go to the control plane's region (`control_plane` in `infra/regions.toml`): it
//! holds the directory's primary and the operators. Two operations change a clinic's schema
//! and so run in the clinic's home region: `create` and `delete`. The control plane's
//! region forwards those once to the home region (region to region, as a batch is), which
//! creates or exports-then-drops the schema and writes the directory entry on the control
//! plane's primary itself. The edge makes one call either way.
//!
//! A refusal the operator caused (unknown clinic, a taken domain, a clinic still active)
//! is an [`OpsAnswer::Refused`] with the HTTP status and the stable code the operator's
//! API answers with; a fault of the protocol (bad edge token, database down) is the
//! usual [`super::super::dataplane::wire::RegionError`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Operator sign-in: an email and a password, checked on the control plane.
pub const OPS_SIGN_IN_PATH: &str = "/v1/ops/sign-in";
/// Every other operator request.
pub const OPS_PATH: &str = "/v1/ops";
/// An operator request is a few fields: anything over this is refused (413).
pub const MAX_OPS_BYTES: usize = 8 * 1024;
/// The plans a clinic may be on (`update`'s `plan`). Nothing bills or limits by plan yet:
/// the product's list, here once for the region's check and the console's choices.
pub const PLANS: [&str; 3] = ["basic", "standard", "premium"];
/// The most clinics a `list` answers at once.
pub const MAX_PAGE: u32 = 200;
/// A `list` without a limit answers this many.
pub const DEFAULT_PAGE: u32 = 50;

/// What an operator asks for. Slugs, plans, domains travel as typed by the operator: the
/// region validates them (one rule for the API, the console and the CLI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum OpsRequest {
    /// Clinics by slug, after `after` (the previous page's `next`), `limit` at most.
    List {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    Show {
        slug: String,
    },
    /// What `regional-db tenant create` does, in the clinic's home region.
    Create {
        slug: String,
        name: String,
        country: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        region: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        domains: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        currency: Option<String>,
        /// The platform's apex domain, which no clinic may take (the edge's `APEX_DOMAIN`).
        apex: String,
    },
    Update {
        slug: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plan: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    Suspend {
        slug: String,
    },
    Resume {
        slug: String,
    },
    DomainAdd {
        slug: String,
        domain: String,
        /// As in `Create`.
        apex: String,
    },
    DomainVerify {
        slug: String,
        domain: String,
    },
    DomainRemove {
        slug: String,
        domain: String,
    },
    /// Export then delete, in the home region; `confirm` must repeat the slug.
    Delete {
        slug: String,
        confirm: String,
    },
}

impl OpsRequest {
    /// The operation's name, as `control.operator_events` and the logs record it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::List { .. } => "list",
            Self::Show { .. } => "show",
            Self::Create { .. } => "create",
            Self::Update { .. } => "update",
            Self::Suspend { .. } => "suspend",
            Self::Resume { .. } => "resume",
            Self::DomainAdd { .. } => "domain_add",
            Self::DomainVerify { .. } => "domain_verify",
            Self::DomainRemove { .. } => "domain_remove",
            Self::Delete { .. } => "delete",
        }
    }
}

/// The region's answer to an [`OpsRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpsAnswer {
    /// Boxed: a result is much larger than a refusal.
    Ok(Box<OpsResult>),
    Refused(OpsRefusal),
}

/// Why an operation was refused: the status and code the operator's API answers, and a
/// sentence that says what to do. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpsRefusal {
    /// 400 (bad input), 401 (operator disabled or unknown), 404 (no such clinic or
    /// domain), 409 (the clinic's state forbids it), 502 (DNS failed), 503.
    pub status: u16,
    /// Stable, for programs: `bad_request`, `unknown_clinic`, `domain_taken`…
    pub code: String,
    pub detail: String,
}

impl OpsRefusal {
    pub fn new(status: u16, code: &str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            detail: detail.into(),
        }
    }
}

/// What an operation did, or shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum OpsResult {
    /// A page of clinics; `next` is the `after` of the following page, if any.
    Clinics {
        clinics: Vec<ClinicView>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// One clinic, as it now is; `changed` is false when the request changed nothing
    /// (suspending a suspended clinic, a `show`).
    Clinic { clinic: ClinicView, changed: bool },
    /// A domain added (pending: publish `challenge`) or verified.
    Domain {
        clinic: ClinicView,
        domain: String,
        verified: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        challenge: Option<Challenge>,
        changed: bool,
    },
    /// Exported, then deleted everywhere.
    Deleted {
        slug: String,
        home_region: String,
        export: Export,
    },
}

/// A clinic as operators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicView {
    pub slug: String,
    pub name: String,
    pub country: String,
    pub home_region: String,
    pub default_locale: String,
    pub currency: String,
    pub plan: String,
    /// `active` or `suspended`.
    pub status: String,
    pub created_at: String,
    pub domains: Vec<DomainView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainView {
    pub domain: String,
    /// Only verified domains route to the clinic.
    pub verified: bool,
    /// The TXT record to publish, while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<Challenge>,
}

/// A DNS TXT record proving control of a domain: `name TXT "value"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// Where a deleted clinic's data went, on its home region's instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    /// The directory on the home region's instance (`<table>.jsonl`, `manifest.json`).
    pub directory: String,
    /// Rows exported, by table; every one of them was then purged.
    pub tables: BTreeMap<String, u64>,
    pub rows: u64,
}

/// An operator, as sign-in answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorIdentity {
    pub id: String,
    pub email: String,
    pub name: String,
}

/// The answer to an operator sign-in: as a clinic's, a refusal never says why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperatorSignIn {
    SignedIn(OperatorIdentity),
    Refused {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_secs: Option<u64>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_tagged_and_strict() {
        let r: OpsRequest =
            serde_json::from_str(r#"{"op": "suspend", "slug": "clinique-a"}"#).unwrap();
        assert_eq!(
            r,
            OpsRequest::Suspend {
                slug: "clinique-a".into()
            }
        );
        assert_eq!(r.name(), "suspend");
        assert!(serde_json::from_str::<OpsRequest>(r#"{"op": "drop_everything"}"#).is_err());
        assert!(
            serde_json::from_str::<OpsRequest>(r#"{"op": "suspend", "slug": "a", "x": 1}"#)
                .is_err()
        );
        let a = OpsAnswer::Refused(OpsRefusal::new(409, "not_suspended", "suspend it first"));
        let text = serde_json::to_string(&a).unwrap();
        assert!(text.starts_with(r#"{"refused":"#), "{text}");
        assert_eq!(serde_json::from_str::<OpsAnswer>(&text).unwrap(), a);
    }
}
