//! One regulatory policy per country: what a patient record must hold, which consents
//! exist, how long records are kept, whether identifiers are encrypted at rest, and where
//! the clinic's data may be homed.
//!
//! Looked up from the clinic's country; an unlisted country gets the strictest common
//! baseline (GDPR-like), never nothing.

pub mod identifiers;

use crate::{country::CountryCode, geo::RegionId};

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

/// Where a clinic's data may be homed: always its country's home region (the region map's
/// choice, `infra/regions.toml`), and besides it only the regions listed here, which an
/// operator may pick when creating the clinic (`regional-db tenant create --region`).
///
/// The home region is never listed, so no policy can forbid it, and the lists can only be
/// built in this module, each next to the law that allows it. Every id is a region of the
/// embedded map (checked by the tests below).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hosting {
    also: &'static [&'static str],
}

impl Hosting {
    /// The country's home region and nothing else: the default for every country whose
    /// cross-border rules we have not reviewed.
    pub const HOME_ONLY: Hosting = Hosting { also: &[] };

    /// The home region and `also`: each a region whose jurisdiction the country's law
    /// recognises as adequate for its health data, so that homing a clinic there needs no
    /// contract of ours it does not already have.
    const fn home_and(also: &'static [&'static str]) -> Hosting {
        Hosting { also }
    }

    /// Whether a clinic whose country's home region is `home` may be homed in `requested`.
    pub fn allows(&self, home: &RegionId, requested: &RegionId) -> bool {
        requested == home || self.also.contains(&requested.as_str())
    }

    /// Every region a clinic whose country's home region is `home` may be homed in, `home`
    /// first: what an operator is told when a request is refused.
    pub fn allowed(&self, home: &RegionId) -> Vec<RegionId> {
        let mut all = vec![home.clone()];
        all.extend(self.also.iter().filter(|r| **r != home.as_str()).map(|r| {
            r.parse()
                .expect("hosting lists hold valid region ids (tested)")
        }));
        all
    }
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
    /// Where the clinic's data may be homed, beyond its country's home region. Each country
    /// names the cross-border transfer rule its list rests on. The lists are conservative on
    /// purpose: a region is listed only where the law deems its jurisdiction adequate, never
    /// where a transfer would rest on contracts (standard clauses, business associate
    /// agreements) we do not hold for it, or on a discretionary exception.
    pub hosting: Hosting,
}

use PatientField::*;

const BASELINE: Policy = Policy {
    regulation: "GDPR",
    required_patient_fields: &[Family, BirthDate],
    consent_types: &["treatment", "data-processing", "telemedicine"],
    retention_years: 10,
    encrypt_identifiers: true,
    // An unreviewed country: its data stays in the region the map gives it.
    hosting: Hosting::HOME_ONLY,
};

/// Senegal's law, which Côte d'Ivoire and Benin share here for records and consents.
const CDP: Policy = Policy {
    regulation: "CDP (loi 2008-12)",
    required_patient_fields: &[Family, BirthDate],
    consent_types: &["treatment", "data-processing", "telemedicine"],
    retention_years: 10,
    encrypt_identifiers: true,
    // Côte d'Ivoire (loi 2013-450, ARTCI) and Benin (Code du numérique, APDP) make every
    // transfer abroad subject to their own authority's authorisation: home region only.
    hosting: Hosting::HOME_ONLY,
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
            // GDPR art. 44–49 would allow adequate countries, but health data must be hosted
            // by an HDS-certified host (Code de la santé publique L1111-8), and the HDS
            // referential (2024) requires hosting in the EEA: eu-west only.
            hosting: Hosting::HOME_ONLY,
        },
        "US" => Policy {
            regulation: "HIPAA",
            required_patient_fields: &[Family, Given, BirthDate],
            consent_types: &["treatment", "hipaa-authorization", "telemedicine"],
            retention_years: 6,
            encrypt_identifiers: true,
            // HIPAA has no localisation rule; the limit is contractual: our business associate
            // agreements with the hosting provider cover us-east only.
            hosting: Hosting::HOME_ONLY,
        },
        "ZA" => Policy {
            regulation: "POPIA",
            required_patient_fields: &[Family, Given, BirthDate],
            consent_types: &["treatment", "data-processing", "telemedicine"],
            retention_years: 6,
            encrypt_identifiers: true,
            // POPIA s72(1)(a): transfer to a recipient bound by a law giving protection
            // substantially similar to POPIA's; the GDPR is, so no prior authorisation for
            // health data (s57) is needed: eu-west. The US has no such law: not us-east.
            hosting: Hosting::home_and(&["eu-west"]),
        },
        // Loi 2008-12 art. 49: transfer only to a country with an adequate level of
        // protection, with the CDP's prior authorisation; the EU's GDPR gives such a level:
        // eu-west, once the operator holds the clinic's CDP authorisation. Not us-east.
        "SN" => Policy {
            hosting: Hosting::home_and(&["eu-west"]),
            ..CDP
        },
        "CI" | "BJ" => CDP,
        "MA" => Policy {
            regulation: "Loi 09-08 (CNDP)",
            required_patient_fields: &[Family, Given, BirthDate],
            consent_types: &["treatment", "data-processing", "telemedicine"],
            retention_years: 10,
            encrypt_identifiers: true,
            // Loi 09-08 art. 43: transfer only to a State with adequate protection (the CNDP's
            // list holds the EU states), else with the CNDP's authorisation (art. 44). The
            // home region, eu-west, is on that list; we rely on no other entry: home only.
            hosting: Hosting::HOME_ONLY,
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

    fn region(s: &str) -> RegionId {
        s.parse().unwrap()
    }

    /// Every country with a policy of its own, and every country of the region map.
    fn countries() -> Vec<CountryCode> {
        let map = crate::geo::RegionMap::embedded();
        let mut all: Vec<CountryCode> = ["FR", "US", "ZA", "SN", "CI", "BJ", "MA", "JP"]
            .iter()
            .map(|c| c.parse().unwrap())
            .collect();
        all.extend(map.regions().iter().flat_map(|r| r.countries.clone()));
        all
    }

    #[test]
    fn hosting_lists_name_other_regions_of_the_map() {
        let map = crate::geo::RegionMap::embedded();
        for country in countries() {
            let home = &map.home_for_country(&country).id;
            for r in policy_for(&country).hosting.also {
                let id: RegionId = r.parse().unwrap_or_else(|e| panic!("{country}: {e}"));
                assert!(
                    map.get(id.as_str()).is_some(),
                    "{country}: {id} not in the map"
                );
                assert_ne!(&id, home, "{country}: its home region needs no listing");
            }
        }
    }

    #[test]
    fn the_home_region_is_always_allowed() {
        let map = crate::geo::RegionMap::embedded();
        for country in countries() {
            let home = &map.home_for_country(&country).id;
            let hosting = policy_for(&country).hosting;
            assert!(hosting.allows(home, home), "{country}");
            assert_eq!(hosting.allowed(home).first(), Some(home), "{country}");
        }
    }

    #[test]
    fn each_country_may_be_homed_only_where_its_law_allows() {
        let allowed = |c: &str, home: &str| -> Vec<String> {
            let hosting = policy_for(&c.parse().unwrap()).hosting;
            let all = hosting.allowed(&region(home));
            for r in ["eu-west", "us-east", "af-south"] {
                let listed = all.iter().any(|a| a.as_str() == r);
                assert_eq!(hosting.allows(&region(home), &region(r)), listed, "{c} {r}");
            }
            all.iter().map(ToString::to_string).collect()
        };
        assert_eq!(allowed("FR", "eu-west"), ["eu-west"]);
        assert_eq!(allowed("MA", "eu-west"), ["eu-west"]);
        assert_eq!(allowed("US", "us-east"), ["us-east"]);
        assert_eq!(allowed("ZA", "af-south"), ["af-south", "eu-west"]);
        assert_eq!(allowed("SN", "af-south"), ["af-south", "eu-west"]);
        assert_eq!(allowed("CI", "af-south"), ["af-south"]);
        // The baseline is strict: an unlisted country stays in the region the map gives it.
        assert_eq!(BASELINE.hosting, Hosting::HOME_ONLY);
        assert_eq!(allowed("JP", "eu-west"), ["eu-west"]);
        assert_eq!(allowed("CA", "us-east"), ["us-east"]);
    }
}
