//! The resource types the API serves, one module each; [`REGISTRY`] lists them. Adding a
//! resource is a module here, its line in [`REGISTRY`] and one tenant migration that
//! makes its table (checked against Postgres by `regional_db`'s tests).

pub mod appointment;
pub mod audit_event;
pub mod charge_item_definition;
pub mod consent;
pub mod invoice;
pub mod observation;
pub mod patient;
pub mod practitioner;
pub mod schedule;
pub mod slot;

use super::resource::{Resource, statements as statements_of};
use crate::dataplane::statement::Statement;

/// Every resource type served, in the order the CapabilityStatement lists them.
pub static REGISTRY: &[&dyn Resource] = &[
    &patient::Patient,
    &practitioner::Practitioner,
    &schedule::Schedule,
    &slot::Slot,
    &appointment::Appointment,
    &observation::Observation,
    &consent::Consent,
    &audit_event::AuditEvent,
    &charge_item_definition::ChargeItemDefinition,
    &invoice::Invoice,
];

/// The type named `name` (`Patient`), as the FHIR URL space names it.
pub fn by_name(name: &str) -> Option<&'static dyn Resource> {
    REGISTRY.iter().copied().find(|r| r.name() == name)
}

/// The type whose `/v1` collection is `plural` (`patients`).
pub fn by_plural(plural: &str) -> Option<&'static dyn Resource> {
    REGISTRY.iter().copied().find(|r| r.plural() == plural)
}

/// Every registered resource's statements, for the catalog
/// ([`crate::dataplane::catalog::all`]).
pub fn statements() -> Vec<Statement> {
    REGISTRY.iter().flat_map(|r| statements_of(*r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_plurals_and_tables_are_unique() {
        for (i, r) in REGISTRY.iter().enumerate() {
            for o in &REGISTRY[i + 1..] {
                assert_ne!(r.name(), o.name());
                assert_ne!(r.plural(), o.plural());
                assert_ne!(r.table(), o.table());
            }
            assert_eq!(r.structure().name, r.name(), "the structure is the type's");
            // Column and table names reach SQL text: plain identifiers only.
            let plain =
                |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
            assert!(plain(r.table()), "{}", r.table());
            for c in r.columns() {
                assert!(plain(c.name), "{}.{}", r.name(), c.name);
            }
            for p in r.search_params() {
                for c in p.kind.columns() {
                    assert!(plain(c), "{}?{}: {c}", r.name(), p.name);
                }
            }
            for rule in r.db_rules() {
                assert!(
                    rule.path == r.name() || rule.path.starts_with(&format!("{}.", r.name())),
                    "{}: {} names an element of its own type",
                    r.name(),
                    rule.name
                );
            }
        }
    }
}
