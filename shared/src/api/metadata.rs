//! `GET /fhir/R4/metadata` (and `/v1/metadata`): the CapabilityStatement, generated from
//! the registry, so it lists exactly the resources, interactions and search parameters
//! served — no more, no less.

use serde_json::{Value, json};

use super::{Urls, resources::REGISTRY, search::params_of};
use crate::fhir::datatypes::civil_date;

/// The FHIR version the API speaks.
pub const FHIR_VERSION: &str = "4.0.1";

/// The server's CapabilityStatement, with its URLs in the request's space. `now_millis`
/// dates it (R4 requires a date; the statement is generated, so it is current).
pub fn capability_statement(urls: &Urls, now_millis: u64) -> Value {
    let resources: Vec<Value> = REGISTRY
        .iter()
        .map(|r| {
            let interactions: Vec<Value> = r
                .interactions()
                .iter()
                .map(|i| json!({ "code": i.code() }))
                .collect();
            let params: Vec<Value> = params_of(*r)
                .map(|p| {
                    json!({
                        "name": p.name,
                        "type": p.kind.fhir_type(),
                        "documentation": p.documentation,
                    })
                })
                .collect();
            let operations: Vec<Value> = r
                .operations()
                .iter()
                .map(|o| {
                    json!({
                        "name": o.name(),
                        "definition": format!("{}/OperationDefinition/{}-{}", urls.base(), r.name(), o.name()),
                    })
                })
                .collect();
            let mut entry = json!({
                "type": r.name(),
                "profile": format!("http://hl7.org/fhir/StructureDefinition/{}", r.name()),
                "interaction": interactions,
                "versioning": "versioned",
                "readHistory": false,
                "updateCreate": false,
                "conditionalCreate": r.identity().is_some(),
                "conditionalUpdate": false,
                "conditionalDelete": "not-supported",
                "searchParam": params,
            });
            if !operations.is_empty() {
                entry["operation"] = json!(operations);
            }
            entry
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": civil_date(now_millis),
        "publisher": "Telemed Edge",
        "kind": "instance",
        "software": { "name": "Telemed Edge", "version": env!("CARGO_PKG_VERSION") },
        "implementation": {
            "description": "Telemed Edge clinical API",
            "url": urls.base(),
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "security": {
                "service": [{
                    "coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                        "code": "SMART-on-FHIR",
                    }],
                }],
                "description": "Bearer tokens with SMART v2 system scopes, one clinic per token.",
            },
            "resource": resources,
            "interaction": [{ "code": "batch" }, { "code": "transaction" }],
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Space;

    #[test]
    fn lists_exactly_the_registry() {
        let req = http::Request::builder()
            .uri("https://a.localhost/fhir/R4/metadata")
            .body(Vec::new())
            .unwrap();
        let urls = Urls::of(&req, Space::FhirR4);
        let c = capability_statement(&urls, 0);
        assert_eq!(c["date"], "1970-01-01");
        assert_eq!(c["implementation"]["url"], "https://a.localhost/fhir/R4");
        let listed: Vec<&str> = c["rest"][0]["resource"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["type"].as_str().unwrap())
            .collect();
        let registered: Vec<&str> = REGISTRY.iter().map(|r| r.name()).collect();
        assert_eq!(listed, registered);
        for (entry, r) in c["rest"][0]["resource"]
            .as_array()
            .unwrap()
            .iter()
            .zip(REGISTRY)
        {
            let params: Vec<&str> = entry["searchParam"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            let declared: Vec<&str> = params_of(*r).map(|p| p.name).collect();
            assert_eq!(params, declared, "{}", r.name());
            assert_eq!(
                entry["interaction"].as_array().unwrap().len(),
                r.interactions().len()
            );
        }
    }
}
