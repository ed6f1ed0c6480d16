//! FHIR R4 `AuditEvent`, read-only: the clinic's audit trail as clinic admins read it
//! (scope `system/AuditEvent.rs`, named explicitly: a `system/*` wildcard does not reach the
//! trail, which says who looked at what).
//!
//! Each record of `audit_events` — a read, search, create, update, delete or export of
//! health data, or its refusal — is one AuditEvent: `agent[0].who` the caller (user, app or
//! device client id), `entity[0].what` the resource, `action` C/R/U/D/E, `outcome` 0 (or 4/8
//! for a refused batch, `outcomeDesc` its code), `recorded`, `source.observer` the edge that
//! asked (its nearest region and PoP). The resource is built by the view
//! `audit_event_resources` (migration `0010_audit_chain.sql`), so every record reads the same
//! through the API, the operator's SQL and `regional-db audit verify`.
//!
//! Search by `patient` (records about that Patient), `date` (eq, ge, gt, le, lt), `agent`
//! (who), `action`, newest first with `_sort=-date`; `Patient/{id}/$access-log` is that
//! search for one patient ([`ACCESS_LOG`]).
//!
//! Reading the trail is itself recorded, once per statement and about no patient
//! (`regional_db::db`): the trail of the trail, without a reader chasing its own tail.

use serde_json::{Map, Value};

use crate::{
    api::{
        resource::{Indexed, Interaction, Meta, Operation, Resource, Rules, Sort},
        search::{Match, SearchParam},
    },
    fhir::datatypes::{
        BOOLEAN, Base, CODEABLE_CONCEPT, CODING, Codes, DATE_TIME, INSTANT, Kind, PERIOD,
        REFERENCE, STRING, Type, URI, ValueSet, many, opt, req, req_many,
    },
};

/// The type's name, which the region uses to tell reads of the trail from other reads.
pub const AUDIT_EVENT: &str = "AuditEvent";

/// The `AuditEvent` resource type.
pub struct AuditEvent;

/// R4 `AuditEventAction` (required binding).
pub static AUDIT_EVENT_ACTION: ValueSet = ValueSet {
    name: "AuditEventAction",
    codes: Codes::Listed("C R U D E"),
};

/// R4 `AuditEventOutcome` (required binding).
static AUDIT_EVENT_OUTCOME: ValueSet = ValueSet {
    name: "AuditEventOutcome",
    codes: Codes::Listed("0 4 8 12"),
};

/// R4 `AuditEvent` (<https://hl7.org/fhir/R4/auditevent.html>): what the view builds, for
/// the CapabilityStatement's profile and the structure tests.
pub static AUDIT_EVENT_TYPE: Type = Type {
    name: AUDIT_EVENT,
    base: Base::DomainResource,
    elements: &[
        req("type", Kind::Type(&CODING)),
        many("subtype", Kind::Type(&CODING)),
        opt("action", Kind::Code(&AUDIT_EVENT_ACTION)),
        opt("period", Kind::Type(&PERIOD)),
        req("recorded", INSTANT),
        opt("outcome", Kind::Code(&AUDIT_EVENT_OUTCOME)),
        opt("outcomeDesc", STRING),
        many("purposeOfEvent", Kind::Type(&CODEABLE_CONCEPT)),
        req_many("agent", Kind::Type(&AGENT)),
        req("source", Kind::Type(&SOURCE)),
        many("entity", Kind::Type(&ENTITY)),
    ],
    invariants: &[],
};

static AGENT: Type = Type {
    name: "AuditEvent.agent",
    base: Base::Backbone,
    elements: &[
        opt("type", Kind::Type(&CODEABLE_CONCEPT)),
        many("role", Kind::Type(&CODEABLE_CONCEPT)),
        opt("who", Kind::Type(&REFERENCE)),
        opt("altId", STRING),
        opt("name", STRING),
        req("requestor", BOOLEAN),
        opt("location", Kind::Type(&REFERENCE)),
        many("policy", URI),
        opt("media", Kind::Type(&CODING)),
        many("purposeOfUse", Kind::Type(&CODEABLE_CONCEPT)),
    ],
    invariants: &[],
};

static SOURCE: Type = Type {
    name: "AuditEvent.source",
    base: Base::Backbone,
    elements: &[
        opt("site", STRING),
        req("observer", Kind::Type(&REFERENCE)),
        many("type", Kind::Type(&CODING)),
    ],
    invariants: &[],
};

static ENTITY: Type = Type {
    name: "AuditEvent.entity",
    base: Base::Backbone,
    elements: &[
        opt("what", Kind::Type(&REFERENCE)),
        opt("type", Kind::Type(&CODING)),
        opt("role", Kind::Type(&CODING)),
        opt("lifecycle", Kind::Type(&CODING)),
        many("securityLabel", Kind::Type(&CODING)),
        opt("name", STRING),
        opt("description", STRING),
        opt("query", DATE_TIME),
    ],
    invariants: &[],
};

static SEARCH: &[SearchParam] = &[
    SearchParam {
        name: "patient",
        kind: Match::Reference {
            column: "patient",
            target: "Patient",
        },
        documentation: "Records about this patient (Patient/<id>): reads, searches and \
                        changes of their record and of resources about them.",
    },
    SearchParam {
        name: "date",
        kind: Match::DateRange("recorded"),
        documentation: "When the record was made: eq, ge, gt, le, lt.",
    },
    SearchParam {
        name: "agent",
        kind: Match::Identifier("agents"),
        documentation: "Who asked: the user, app or device client id (the API token's \
                        subject), optionally as urn:telemed:subject|<id>.",
    },
    SearchParam {
        name: "action",
        kind: Match::Code {
            column: "action",
            codes: &AUDIT_EVENT_ACTION,
        },
        documentation: "C create | R read, export | U update | D delete | E search.",
    },
];

static SORTS: &[Sort] = &[Sort {
    name: "date",
    column: "recorded",
}];

/// `GET Patient/{id}/$access-log`: who accessed this patient's record, newest first — a
/// searchset Bundle of the AuditEvents about the patient, paged like any search. It needs
/// the scope to search AuditEvent (`system/AuditEvent.s`): a patient's own read scope would
/// let any app that may read patients learn which staff looked at whom. When `patient/`
/// scopes are honoured, a patient's `patient/Patient.r` for their own record is the natural
/// second way in.
pub const ACCESS_LOG: Operation = Operation::SearchOf {
    name: "access-log",
    target: &AuditEvent,
    param: "patient",
    sort: "date",
};

static META: Meta = Meta {
    search: SEARCH,
    sorts: SORTS,
    interactions: &[Interaction::Read, Interaction::SearchType],
    explicit_scope: true,
    ..Meta::new(
        AUDIT_EVENT,
        "audit-events",
        "audit_event_resources",
        &AUDIT_EVENT_TYPE,
    )
};

impl Resource for AuditEvent {
    fn meta(&self) -> &'static Meta {
        &META
    }

    /// Never called: the API offers no write of the trail.
    fn index(&self, _: &Map<String, Value>, _: &Rules<'_>) -> Indexed {
        Indexed::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        api::resource::{self, statements},
        dataplane::statement::Access,
    };

    #[test]
    fn the_trail_is_read_only_and_audited_as_a_read_of_the_trail() {
        let all = statements(&AuditEvent);
        assert!(!all.is_empty());
        for s in &all {
            assert_eq!(s.access, Access::Read, "{} writes", s.name);
            assert!(
                !s.sql.contains("audit_patient"),
                "{}: a read of the trail is about no patient",
                s.name
            );
        }
        let search = all.iter().find(|s| s.name == "auditevent.search").unwrap();
        assert_eq!(search.audit.map(|a| a.resource_type), Some(AUDIT_EVENT));
        assert!(
            all.iter()
                .any(|s| s.name == "auditevent.search-by-date-desc"),
            "newest first"
        );
        assert_eq!(
            resource::scope(&AuditEvent, Interaction::SearchType),
            "system/AuditEvent.s"
        );
    }

    #[test]
    fn a_search_by_patient_date_agent_and_action_parses() {
        let s = crate::api::search::parse(
            &AuditEvent,
            Some(
                "patient=Patient/5b0c1a2e-1111-4222-8333-444455556666&date=ge2026-11-01\
                 &agent=app-1&action=R&_sort=-date",
            ),
        )
        .unwrap();
        assert!(!s.matches_nothing);
        assert_eq!(s.filters[0], "5b0c1a2e-1111-4222-8333-444455556666");
        assert_eq!(s.filters[1], "2026-11-01T00:00:00Z");
        assert_eq!(s.filters[3], "app-1");
        assert_eq!(s.filters[4], "R");
        for bad in ["action=X", "date=yesterday"] {
            assert!(
                crate::api::search::parse(&AuditEvent, Some(bad)).is_err(),
                "{bad}"
            );
        }
        // Another type's reference can be about no patient: nothing to ask the region.
        let s = crate::api::search::parse(
            &AuditEvent,
            Some("patient=Practitioner/5b0c1a2e-1111-4222-8333-444455556666"),
        )
        .unwrap();
        assert!(s.matches_nothing);
    }
}
