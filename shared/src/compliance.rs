//! One regulatory policy per country: what a patient record must hold, which consents
//! exist, how long records are kept, whether identifiers are encrypted at rest.
//!
//! Looked up from the clinic's country; an unlisted country gets the strictest common
//! baseline (GDPR-like), never nothing.

use crate::country::CountryCode;

/// A patient element a regulation may require.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientField {
    /// `name` with a `family` part.
    Family,
    /// `name` with at least one `given`.
    Given,
    BirthDate,
    Gender,
}

impl PatientField {
    /// The FHIRPath of the element, for `OperationOutcome.issue.expression`.
    pub fn fhir_path(self) -> &'static str {
        match self {
            Self::Family => "Patient.name.family",
            Self::Given => "Patient.name.given",
            Self::BirthDate => "Patient.birthDate",
            Self::Gender => "Patient.gender",
        }
    }

    /// The column of the tenant `patients` table that holds the element.
    pub fn column(self) -> &'static str {
        match self {
            Self::Family => "family",
            Self::Given => "given",
            Self::BirthDate => "birth_date",
            Self::Gender => "gender",
        }
    }

    /// The name of the check constraint that enforces the element in a clinic's schema.
    /// A clinic's schema carries one per required field of its country, installed when the
    /// clinic is created, so the rule holds even where the edge does not know the country
    /// (a cold edge); the edge maps the name back to [`Self::fhir_path`].
    pub fn constraint_name(self) -> String {
        format!("policy_requires_{}", self.column())
    }

    pub const ALL: [PatientField; 4] = [Self::Family, Self::Given, Self::BirthDate, Self::Gender];
}

/// A country's health-data policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The regulation(s) in force, for messages and audit (`GDPR/HDS`, `HIPAA`, `POPIA`…).
    pub regulation: &'static str,
    pub required_patient_fields: &'static [PatientField],
    /// Consent types a clinic must be able to record.
    pub consent_types: &'static [&'static str],
    /// Minimum retention of medical records, in years.
    pub retention_years: u16,
    /// Whether national identifiers must be encrypted at rest.
    pub encrypt_identifiers: bool,
}

use PatientField::*;

const BASELINE: Policy = Policy {
    regulation: "GDPR",
    required_patient_fields: &[Family, BirthDate],
    consent_types: &["treatment", "data-processing", "telemedicine"],
    retention_years: 10,
    encrypt_identifiers: true,
};

/// Shape checks only, for when the clinic's country is not known yet (a cold edge): the
/// clinic's own schema then enforces its required fields (constraints installed at creation).
pub const SHAPE_ONLY: Policy = Policy {
    regulation: "",
    required_patient_fields: &[],
    ..BASELINE
};

/// The policy for a clinic in `country`.
pub fn policy_for(country: &CountryCode) -> Policy {
    match country.as_str() {
        // Identité nationale de santé: the INS traits are name, given name, birth date, sex.
        // Medical records are kept 20 years (Code de la santé publique R1112-7).
        "FR" => Policy {
            regulation: "GDPR/HDS",
            required_patient_fields: &[Family, Given, BirthDate, Gender],
            consent_types: &[
                "treatment",
                "data-processing",
                "telemedicine",
                "data-sharing",
            ],
            retention_years: 20,
            encrypt_identifiers: true,
        },
        "US" => Policy {
            regulation: "HIPAA",
            required_patient_fields: &[Family, Given, BirthDate],
            consent_types: &["treatment", "hipaa-authorization", "telemedicine"],
            retention_years: 6,
            encrypt_identifiers: true,
        },
        "ZA" => Policy {
            regulation: "POPIA",
            required_patient_fields: &[Family, Given, BirthDate],
            consent_types: &["treatment", "data-processing", "telemedicine"],
            retention_years: 6,
            encrypt_identifiers: true,
        },
        "SN" | "CI" | "BJ" => Policy {
            regulation: "CDP (loi 2008-12)",
            required_patient_fields: &[Family, BirthDate],
            consent_types: &["treatment", "data-processing", "telemedicine"],
            retention_years: 10,
            encrypt_identifiers: true,
        },
        "MA" => Policy {
            regulation: "Loi 09-08 (CNDP)",
            required_patient_fields: &[Family, Given, BirthDate],
            consent_types: &["treatment", "data-processing", "telemedicine"],
            retention_years: 10,
            encrypt_identifiers: true,
        },
        _ => BASELINE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_country_has_its_regulation_and_unknown_gets_the_baseline() {
        let p = |c: &str| policy_for(&c.parse().unwrap());
        assert_eq!(p("FR").regulation, "GDPR/HDS");
        assert!(p("FR").required_patient_fields.contains(&Gender));
        assert_eq!(p("US").regulation, "HIPAA");
        assert_eq!(p("ZA").regulation, "POPIA");
        assert_eq!(p("JP"), BASELINE);
        assert!(!BASELINE.required_patient_fields.is_empty());
    }
}
