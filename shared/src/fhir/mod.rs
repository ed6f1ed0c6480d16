//! FHIR R4 JSON shapes the API speaks: `OperationOutcome` for errors, `Bundle` for lists,
//! and the datatype tables of [`datatypes`] every resource of [`crate::api::resources`] is
//! checked against.

pub mod datatypes;
pub mod dates;

use serde_json::{Value, json};

pub const CONTENT_TYPE: &str = "application/fhir+json; charset=utf-8";

/// An `OperationOutcome.issue.code` (FHIR value set `issue-type`), the ones we emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueCode {
    Invalid,
    Structure,
    Required,
    Value,
    Invariant,
    Security,
    Login,
    Forbidden,
    NotFound,
    NotSupported,
    Conflict,
    TooLong,
    Throttled,
    Transient,
    Exception,
}

impl IssueCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::Structure => "structure",
            Self::Required => "required",
            Self::Value => "value",
            Self::Invariant => "invariant",
            Self::Security => "security",
            Self::Login => "login",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not-found",
            Self::NotSupported => "not-supported",
            Self::Conflict => "conflict",
            Self::TooLong => "too-long",
            Self::Throttled => "throttled",
            Self::Transient => "transient",
            Self::Exception => "exception",
        }
    }
}

/// One issue of an `OperationOutcome`.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub code: IssueCode,
    pub diagnostics: String,
    /// FHIRPath of the element at fault, when there is one.
    pub expression: Option<String>,
}

impl Issue {
    pub fn new(code: IssueCode, diagnostics: impl Into<String>) -> Self {
        Self {
            code,
            diagnostics: diagnostics.into(),
            expression: None,
        }
    }

    pub fn at(mut self, expression: impl Into<String>) -> Self {
        self.expression = Some(expression.into());
        self
    }
}

/// An `OperationOutcome` with every issue at severity `error`.
pub fn operation_outcome(issues: &[Issue]) -> Value {
    let issues: Vec<Value> = issues
        .iter()
        .map(|i| {
            let mut v = json!({ "severity": "error", "code": i.code.as_str(), "diagnostics": i.diagnostics });
            if let Some(e) = &i.expression {
                v["expression"] = json!([e]);
            }
            v
        })
        .collect();
    json!({ "resourceType": "OperationOutcome", "issue": issues })
}

/// A `searchset` Bundle.
pub fn searchset(
    self_url: &str,
    next_url: Option<&str>,
    total: Option<u64>,
    entries: Vec<(String, Value)>,
) -> Value {
    let mut links = vec![json!({ "relation": "self", "url": self_url })];
    if let Some(next) = next_url {
        links.push(json!({ "relation": "next", "url": next }));
    }
    let entry: Vec<Value> = entries
        .into_iter()
        .map(|(full_url, resource)| json!({ "fullUrl": full_url, "resource": resource, "search": { "mode": "match" } }))
        .collect();
    let mut b =
        json!({ "resourceType": "Bundle", "type": "searchset", "link": links, "entry": entry });
    if let Some(t) = total {
        b["total"] = json!(t);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_shape() {
        let o =
            operation_outcome(&[Issue::new(IssueCode::Value, "bad gender").at("Patient.gender")]);
        assert_eq!(o["resourceType"], "OperationOutcome");
        assert_eq!(o["issue"][0]["severity"], "error");
        assert_eq!(o["issue"][0]["code"], "value");
        assert_eq!(o["issue"][0]["expression"][0], "Patient.gender");
    }

    #[test]
    fn bundle_shape() {
        let b = searchset(
            "http://x/v1/patients",
            Some("http://x/v1/patients?_cursor=a"),
            Some(3),
            vec![("u".into(), json!({}))],
        );
        assert_eq!(b["type"], "searchset");
        assert_eq!(b["total"], 3);
        assert_eq!(b["link"][1]["relation"], "next");
        assert_eq!(b["entry"][0]["search"]["mode"], "match");
    }
}
