//! One regulatory policy per country: what a patient record must hold, which consents
//! exist, how long records are kept, whether identifiers are encrypted at rest, and where
//! the clinic's data may be homed.
//!
//! Looked up from the clinic's country; an unlisted country gets the strictest common
//! baseline (GDPR-like), never nothing.

pub mod identifiers;
pub mod retention;

use identifiers::NationalId;

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

/// Where a rule of a policy comes from: the text of law it rests on, or — where no rule
/// could be confirmed — what applies instead, said as such. Never an invented rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The legal text (or official code of practice) the value rests on.
    Law(&'static str),
    /// No rule confirmed for this country: the value is the baseline's, and says why.
    Unconfirmed(&'static str),
}

/// A policy value next to its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cited<T> {
    pub value: T,
    pub source: Source,
}

const fn law<T>(value: T, text: &'static str) -> Cited<T> {
    Cited {
        value,
        source: Source::Law(text),
    }
}

const fn unconfirmed<T>(value: T, why: &'static str) -> Cited<T> {
    Cited {
        value,
        source: Source::Unconfirmed(why),
    }
}

/// Processing a consent may gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Processing {
    /// Care by teleconsultation (booking one).
    Teleconsultation,
    /// Sharing the patient's data with an installed third-party app.
    SharingWithApps,
}

impl Processing {
    pub fn code(self) -> &'static str {
        match self {
            Self::Teleconsultation => "teleconsultation",
            Self::SharingWithApps => "sharing-with-apps",
        }
    }
}

/// The code system of the consent kinds a policy names ([`ConsentRule::kind`]): a Consent
/// counts for a gate only with a `category` coding of this system and the kind's code, so a
/// code of some other system that happens to be spelled alike never opens one.
pub const CONSENT_KIND_SYSTEM: &str = "https://telemed-edge.health/fhir/CodeSystem/consent-kind";

/// The name under which a clinic's schema refuses processing that lacks a required consent
/// (`"consent_required": <processing>|<kind>|<citation>`): its gates are the policy's
/// [`ConsentRule`]s, installed as rows (`policy_consent_gates`) when the clinic is created
/// and on every migration, so they hold whatever the edge knows of the clinic.
pub const CONSENT_RULE: &str = "consent_required";

impl Source {
    /// The source in words, as the refusal of a gate cites it.
    pub fn citation(self) -> String {
        match self {
            Source::Law(text) => text.to_owned(),
            Source::Unconfirmed(why) => format!("not confirmed — {why}"),
        }
    }
}

/// A consent the clinic records, and the processing it gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsentRule {
    /// The consent's category code (`telemedicine`, `hipaa-authorization`…).
    pub kind: &'static str,
    pub gates: &'static [Processing],
    pub source: Source,
}

/// What a retention period runs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionFrom {
    /// The last stay or consultation.
    LastVisit,
    /// The record becoming dormant.
    Dormancy,
    /// The end of treatment.
    TreatmentEnd,
    /// Discharge.
    Discharge,
    /// The last entry in the record.
    LastEntry,
}

impl RetentionFrom {
    pub fn code(self) -> &'static str {
        match self {
            Self::LastVisit => "last-visit",
            Self::Dormancy => "dormancy",
            Self::TreatmentEnd => "treatment-end",
            Self::Discharge => "discharge",
            Self::LastEntry => "last-entry",
        }
    }
}

/// How long medical records are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub years: u16,
    pub from: RetentionFrom,
    /// The rule for minors' records, in words, where the law has one.
    pub minors: Option<&'static str>,
    /// The same rule as a number, for [`retention::Rule`]: the record is kept at least to
    /// this birthday, whatever `years` gives. Only where the words above say so.
    pub at_least_to_age: Option<u8>,
    /// Where the law shortens the period when the patient dies soon after the last visit:
    /// a death less than this many years after it keeps the record this many years from
    /// the death instead, in all cases (FR R1112-7's last sentence).
    pub after_death: Option<u16>,
}

/// The deadline to notify a breach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreachNotice {
    Hours(u32),
    Days(u32),
    AsSoonAsReasonablyPossible,
}

/// The national identifier a country's records may carry, checked wherever supplied
/// ([`NationalId::check`]), and whether a record must carry one to be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentifierRule {
    pub scheme: NationalId,
    pub required: bool,
}

/// A country's health-data policy: each rule next to its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The regulation(s) in force, for messages and audit (`GDPR/HDS`, `HIPAA`, `POPIA`…).
    pub regulation: Cited<&'static str>,
    /// What a patient record must hold to be created.
    pub required_patient_fields: Cited<&'static [PatientField]>,
    /// Consents the clinic records, each with the processing it gates.
    pub consents: &'static [ConsentRule],
    /// How long medical records are kept.
    pub retention: Cited<Retention>,
    /// The country's national identifier, and whether a patient record requires it.
    pub national_identifier: Cited<Option<IdentifierRule>>,
    /// Whether national identifiers must be encrypted at rest.
    pub encrypt_identifiers: Cited<bool>,
    /// The deadline to notify a breach; `None` where none could be confirmed.
    pub breach_notice: Cited<Option<BreachNotice>>,
    /// Where the clinic's data may be homed, beyond its country's home region. Each country
    /// names the cross-border transfer rule its list rests on. The lists are conservative on
    /// purpose: a region is listed only where the law deems its jurisdiction adequate, never
    /// where a transfer would rest on contracts (standard clauses, business associate
    /// agreements) we do not hold for it, or on a discretionary exception.
    pub hosting: Cited<Hosting>,
}

use PatientField::*;

/// Encryption of identifiers everywhere: a national identifier is what links a record to
/// a person across systems; the GDPR's security duty is the baseline's ground.
const ENCRYPT: Cited<bool> = law(
    true,
    "GDPR art. 32 (security of processing), applied everywhere",
);

const GDPR_BREACH: Cited<Option<BreachNotice>> =
    law(Some(BreachNotice::Hours(72)), "GDPR art. 33: 72 hours");

const BASELINE_RETENTION: Retention = Retention {
    years: 10,
    from: RetentionFrom::LastVisit,
    minors: None,
    at_least_to_age: None,
    after_death: None,
};

/// The baseline's consents: teleconsultation and sharing each need their consent.
const BASELINE_CONSENTS: &[ConsentRule] = &[
    ConsentRule {
        kind: "telemedicine",
        gates: &[Processing::Teleconsultation],
        source: Source::Unconfirmed("baseline: explicit consent before teleconsultation"),
    },
    ConsentRule {
        kind: "data-sharing",
        gates: &[Processing::SharingWithApps],
        source: Source::Unconfirmed("baseline: explicit consent before sharing with an app"),
    },
];

/// The strictest common rules, for a country we have not reviewed — and said to be so.
pub const BASELINE: Policy = Policy {
    regulation: unconfirmed("GDPR (baseline)", "no reviewed policy for this country"),
    required_patient_fields: unconfirmed(&[Family, BirthDate], "baseline"),
    consents: BASELINE_CONSENTS,
    retention: unconfirmed(
        BASELINE_RETENTION,
        "baseline: no confirmed period for this country",
    ),
    national_identifier: unconfirmed(None, "baseline: no national identifier reviewed"),
    encrypt_identifiers: ENCRYPT,
    breach_notice: unconfirmed(
        Some(BreachNotice::Hours(72)),
        "baseline: GDPR art. 33's 72 hours",
    ),
    // An unreviewed country: its data stays in the region the map gives it.
    hosting: unconfirmed(Hosting::HOME_ONLY, "baseline: the home region only"),
};

/// Senegal's law, which Côte d'Ivoire and Benin share here for records and consents.
const CDP: Policy = Policy {
    regulation: law(
        "CDP (loi 2008-12)",
        "Loi n° 2008-12 sur la protection des données à caractère personnel",
    ),
    required_patient_fields: unconfirmed(&[Family, BirthDate], "baseline"),
    retention: unconfirmed(
        BASELINE_RETENTION,
        "not confirmed for SN, CI, BJ: baseline applied",
    ),
    breach_notice: unconfirmed(None, "not confirmed"),
    // Côte d'Ivoire (loi 2013-450, ARTCI) and Benin (Code du numérique, APDP) make every
    // transfer abroad subject to their own authority's authorisation: home region only.
    hosting: law(
        Hosting::HOME_ONLY,
        "CI loi 2013-450 (ARTCI) / BJ Code du numérique (APDP): transfers need the authority's authorisation",
    ),
    ..BASELINE
};

/// Shape checks only, for when the clinic's country is not known yet (a cold edge): the
/// clinic's own schema then enforces its required fields (constraints installed at creation).
pub const SHAPE_ONLY: Policy = Policy {
    regulation: unconfirmed("", "the clinic is not known yet"),
    required_patient_fields: unconfirmed(&[], "the clinic's schema enforces them"),
    ..BASELINE
};

/// The countries with a reviewed policy, for listings (the README table, tests).
pub const REVIEWED: [&str; 11] = [
    "FR", "US", "ZA", "SN", "MA", "DE", "ES", "GB", "CA", "CI", "BJ",
];

/// The policy for a clinic in `country`.
pub fn policy_for(country: &CountryCode) -> Policy {
    match country.as_str() {
        "FR" => Policy {
            regulation: law(
                "GDPR/HDS",
                "GDPR; Code de la santé publique L1111-8 (HDS hosting)",
            ),
            // The INS traits: birth name, given name, birth date, sex.
            required_patient_fields: law(
                &[Family, Given, BirthDate, Gender],
                "Référentiel INS: the identity traits of the Identifiant national de santé",
            ),
            consents: &[
                ConsentRule {
                    kind: "telemedicine",
                    gates: &[Processing::Teleconsultation],
                    source: Source::Unconfirmed(
                        "consent to a teleconsultation: the article was not confirmed (R6316-2 to review)",
                    ),
                },
                ConsentRule {
                    kind: "data-sharing",
                    gates: &[Processing::SharingWithApps],
                    source: Source::Law(
                        "Code de la santé publique R1111-46: sharing beyond the care team needs the patient's explicit non-opposition",
                    ),
                },
            ],
            retention: law(
                Retention {
                    years: 20,
                    from: RetentionFrom::LastVisit,
                    minors: Some(
                        "at least to the patient's 28th birthday; 10 years from death if earlier",
                    ),
                    at_least_to_age: Some(28),
                    after_death: Some(10),
                },
                "Code de la santé publique R1112-7 (not L1111-7, the right of access)",
            ),
            // The INS references health data once the identity is qualified; a patient
            // without a NIR (no French social security) is still cared for: not required.
            national_identifier: law(
                Some(IdentifierRule {
                    scheme: NationalId::FrNir,
                    required: false,
                }),
                "Code de la santé publique L1111-8-1: the NIR as the national health identifier (INS)",
            ),
            encrypt_identifiers: ENCRYPT,
            breach_notice: GDPR_BREACH,
            // GDPR art. 44–49 would allow adequate countries, but health data must be hosted
            // by an HDS-certified host, and the HDS referential (2024) requires hosting in
            // the EEA: eu-west only.
            hosting: law(
                Hosting::HOME_ONLY,
                "Code de la santé publique L1111-8 (HDS): hosting in the EEA",
            ),
        },
        "US" => Policy {
            regulation: law("HIPAA", "45 CFR Parts 160 and 164"),
            required_patient_fields: unconfirmed(
                &[Family, Given, BirthDate],
                "HIPAA sets no required demographics: identification practice",
            ),
            consents: &[ConsentRule {
                kind: "hipaa-authorization",
                gates: &[Processing::SharingWithApps],
                source: Source::Law(
                    "45 CFR 164.508: uses other than treatment, payment and operations need an authorization (164.506(c))",
                ),
            }],
            retention: law(
                Retention {
                    years: 6,
                    from: RetentionFrom::LastEntry,
                    minors: None,
                    at_least_to_age: None,
                    after_death: None,
                },
                "45 CFR 164.316(b)(2)(i): 6 years for HIPAA documentation; medical records follow state law (5–10 years)",
            ),
            national_identifier: unconfirmed(
                Some(IdentifierRule {
                    scheme: NationalId::UsSsn,
                    required: false,
                }),
                "optional: no rule requiring the SSN in a health record was confirmed",
            ),
            encrypt_identifiers: ENCRYPT,
            breach_notice: law(Some(BreachNotice::Days(60)), "45 CFR 164.404(b): 60 days"),
            // HIPAA has no localisation rule; the limit is contractual: our business associate
            // agreements with the hosting provider cover us-east only.
            hosting: law(
                Hosting::HOME_ONLY,
                "no localisation rule; business associate agreements cover us-east",
            ),
        },
        "ZA" => Policy {
            regulation: law("POPIA", "Protection of Personal Information Act 4 of 2013"),
            required_patient_fields: unconfirmed(
                &[Family, Given, BirthDate],
                "identification practice",
            ),
            retention: law(
                Retention {
                    years: 6,
                    from: RetentionFrom::Dormancy,
                    minors: Some("until the age of 21"),
                    at_least_to_age: Some(21),
                    after_death: None,
                },
                "HPCSA Booklet 9 §9; POPIA s14",
            ),
            breach_notice: law(
                Some(BreachNotice::AsSoonAsReasonablyPossible),
                "POPIA s22: as soon as reasonably possible",
            ),
            national_identifier: unconfirmed(
                Some(IdentifierRule {
                    scheme: NationalId::ZaId,
                    required: false,
                }),
                "optional: no rule requiring the identity number in a health record was confirmed",
            ),
            // POPIA s72(1)(a): transfer to a recipient bound by a law giving protection
            // substantially similar to POPIA's; the GDPR is, so no prior authorisation for
            // health data (s57) is needed: eu-west. The US has no such law: not us-east.
            hosting: law(
                Hosting::home_and(&["eu-west"]),
                "POPIA s72(1)(a): adequate protection (the GDPR)",
            ),
            ..BASELINE
        },
        // Loi 2008-12 art. 49: transfer only to a country with an adequate level of
        // protection, with the CDP's prior authorisation; the EU's GDPR gives such a level:
        // eu-west, once the operator holds the clinic's CDP authorisation. Not us-east.
        "SN" => Policy {
            hosting: law(
                Hosting::home_and(&["eu-west"]),
                "Loi 2008-12 art. 49 (adequate countries, CDP informed), art. 51 (authorisation otherwise)",
            ),
            ..CDP
        },
        "CI" => Policy {
            regulation: law(
                "Loi 2013-450 (ARTCI)",
                "Loi n° 2013-450 relative à la protection des données à caractère personnel",
            ),
            ..CDP
        },
        "BJ" => Policy {
            regulation: law(
                "Code du numérique (APDP)",
                "Loi n° 2017-20 portant code du numérique",
            ),
            ..CDP
        },
        "MA" => Policy {
            regulation: law("Loi 09-08 (CNDP)", "Loi n° 09-08: health data is sensitive"),
            required_patient_fields: unconfirmed(
                &[Family, Given, BirthDate],
                "identification practice",
            ),
            retention: unconfirmed(BASELINE_RETENTION, "not confirmed for MA: baseline applied"),
            breach_notice: unconfirmed(None, "not confirmed"),
            // Loi 09-08 art. 43: transfer only to a State with adequate protection (the CNDP's
            // list holds the EU states), else with the CNDP's authorisation (art. 44). The
            // home region, eu-west, is on that list; we rely on no other entry: home only.
            hosting: law(
                Hosting::HOME_ONLY,
                "Loi 09-08 art. 43–44: adequate States, else CNDP authorisation",
            ),
            ..BASELINE
        },
        "DE" => Policy {
            regulation: law("GDPR/BDSG", "GDPR; Bundesdatenschutzgesetz"),
            retention: law(
                Retention {
                    years: 10,
                    from: RetentionFrom::TreatmentEnd,
                    minors: None,
                    at_least_to_age: None,
                    after_death: None,
                },
                "BGB §630f(3): 10 years after the treatment ends",
            ),
            breach_notice: GDPR_BREACH,
            hosting: law(Hosting::HOME_ONLY, "GDPR: the home region is in the EEA"),
            ..BASELINE
        },
        "ES" => Policy {
            regulation: law("GDPR/LOPDGDD", "GDPR; Ley Orgánica 3/2018"),
            retention: law(
                Retention {
                    years: 5,
                    from: RetentionFrom::Discharge,
                    minors: None,
                    at_least_to_age: None,
                    after_death: None,
                },
                "Ley 41/2002 art. 17.1: at least 5 years from discharge",
            ),
            breach_notice: GDPR_BREACH,
            hosting: law(Hosting::HOME_ONLY, "GDPR: the home region is in the EEA"),
            ..BASELINE
        },
        "GB" => Policy {
            regulation: law("UK GDPR", "UK GDPR; Data Protection Act 2018"),
            retention: law(
                Retention {
                    years: 8,
                    from: RetentionFrom::LastVisit,
                    minors: Some("to the 25th birthday (26th if 17 at the end of treatment)"),
                    // The 26th for every child: the code's 17-at-the-end case is covered,
                    // other children's records are kept a year longer than the minimum,
                    // never shorter.
                    at_least_to_age: Some(26),
                    after_death: None,
                },
                "NHS Records Management Code of Practice 2021 (England): adults 8 years",
            ),
            breach_notice: law(Some(BreachNotice::Hours(72)), "UK GDPR art. 33: 72 hours"),
            ..BASELINE
        },
        "CA" => Policy {
            regulation: law(
                "Ontario: O. Reg. 114/94 (records)",
                "O. Reg. 114/94 under the Medicine Act, 1991",
            ),
            retention: law(
                Retention {
                    years: 10,
                    from: RetentionFrom::LastEntry,
                    minors: Some("10 years after the patient turns 18"),
                    at_least_to_age: Some(28),
                    after_death: None,
                },
                "O. Reg. 114/94: 10 years from the last entry (Ontario)",
            ),
            breach_notice: unconfirmed(None, "not confirmed"),
            ..BASELINE
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
        assert_eq!(p("FR").regulation.value, "GDPR/HDS");
        assert!(p("FR").required_patient_fields.value.contains(&Gender));
        assert_eq!(p("US").regulation.value, "HIPAA");
        assert_eq!(p("ZA").regulation.value, "POPIA");
        assert_eq!(p("JP"), BASELINE);
        assert!(!BASELINE.required_patient_fields.value.is_empty());
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
            for r in policy_for(&country).hosting.value.also {
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
            let hosting = policy_for(&country).hosting.value;
            assert!(hosting.allows(home, home), "{country}");
            assert_eq!(hosting.allowed(home).first(), Some(home), "{country}");
        }
    }

    #[test]
    fn each_country_may_be_homed_only_where_its_law_allows() {
        let allowed = |c: &str, home: &str| -> Vec<String> {
            let hosting = policy_for(&c.parse().unwrap()).hosting.value;
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
        assert_eq!(BASELINE.hosting.value, Hosting::HOME_ONLY);
        assert_eq!(allowed("JP", "eu-west"), ["eu-west"]);
        assert_eq!(allowed("CA", "us-east"), ["us-east"]);
    }
}
