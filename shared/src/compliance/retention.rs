//! Retention: the date a patient's medical record may go, and what of a patient is not the
//! medical record at all (so an erasure request may take it now).
//!
//! One rule engine for the two callers: the region's retention job (`regional-db jobs run
//! retention`) and the API's `Patient/{id}/$erase`. Both read the patient's [`Facts`] from
//! the clinic's schema and both get the date from [`Rule::decide`]; the clinic's schema
//! re-evaluates the same rule inside the transaction that deletes (so a visit recorded
//! meanwhile is never lost), with the parameters [`Rule::to_json`] gives it
//! (`regional_db/migrations/tenant/0011_retention.sql`, `retention_keep_until`). The job
//! compares the two dates for every patient and stops on a disagreement; a test of
//! `regional-db` compares them over a grid of facts.
//!
//! Values come from the clinic's [`Policy`] only (never from here): the period, what it
//! runs from, the minors' and the death rules. Where the policy says a rule is not
//! confirmed, so does every answer that used it.
//!
//! How the facts are read (the same in SQL):
//! - **last visit**: the end of the last appointment that took place (`arrived` or
//!   `fulfilled`, started by now);
//! - **last reading**: the last observation's effective time, up to now;
//! - **last entry**: the last write to anything of the patient's (the patient, an
//!   appointment, an observation, a consent);
//! - **birth / death**: the latest day a partial FHIR date can mean (`1980` → 1980-12-31):
//!   both only ever lengthen the period that way.
//!
//! What a period runs from ([`RetentionFrom`]):
//! - `LastVisit` (FR, GB): the last visit; a record without one, from its last entry.
//! - `TreatmentEnd` (DE) and `Discharge` (ES): the end of the last care — the later of the
//!   last visit and the last reading (remote monitoring is care); else the last entry.
//! - `LastEntry` (US, CA) and `Dormancy` (ZA): the last entry (a record is dormant once
//!   nothing is added to it).
//!
//! The date: anchor + `years`; at least to the `at_least_to_age` birthday (a patient with
//! no birth date is taken as born on the anchor day, the latest possible, so the minors'
//! rule still holds); and, where the policy has `after_death`, a death less than that many
//! years after the anchor keeps the record that many years from the death instead, in all
//! cases. Years are calendar years: 29 February plus one year is 28 February, as in
//! Postgres. The record may go on that day (kept through the day before).

use chrono::{Datelike, Months, NaiveDate};
use serde_json::{Value, json};

use super::{BASELINE, Policy, REVIEWED, Retention, RetentionFrom, Source, policy_for};

/// A retention period as the engine applies it: the numbers of a [`Retention`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub years: u16,
    pub from: RetentionFrom,
    pub at_least_to_age: Option<u8>,
    pub after_death: Option<u16>,
}

/// What is known of a patient, as of the day the rule is applied (UTC days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub birth: Option<NaiveDate>,
    pub death: Option<NaiveDate>,
    pub last_visit: Option<NaiveDate>,
    pub last_reading: Option<NaiveDate>,
    pub last_entry: NaiveDate,
}

/// Which clause of the rule gave the date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clause {
    /// `years` from the anchor.
    Period,
    /// Kept to a birthday (minors).
    Minor,
    /// Counted from the death.
    Death,
}

impl Clause {
    pub fn code(self) -> &'static str {
        match self {
            Self::Period => "period",
            Self::Minor => "minor",
            Self::Death => "death",
        }
    }
}

/// When a record may go, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The day the period runs from.
    pub anchor: NaiveDate,
    /// The first day the record may be purged.
    pub keep_until: NaiveDate,
    pub clause: Clause,
}

impl Decision {
    /// Whether the record may go on `today`.
    pub fn due(&self, today: NaiveDate) -> bool {
        self.keep_until <= today
    }
}

/// `d` plus `years` calendar years (29 February → 28 February), saturating far away.
fn plus_years(d: NaiveDate, years: u32) -> NaiveDate {
    d.checked_add_months(Months::new(years.saturating_mul(12)))
        .unwrap_or(NaiveDate::MAX)
}

impl Rule {
    /// The rule of a policy's retention.
    pub fn of(r: &Retention) -> Rule {
        Rule {
            years: r.years,
            from: r.from,
            at_least_to_age: r.at_least_to_age,
            after_death: r.after_death,
        }
    }

    /// The rule of the clinic's country's policy.
    pub fn of_policy(p: &Policy) -> Rule {
        Self::of(&p.retention.value)
    }

    /// The day the period runs from.
    pub fn anchor(&self, f: &Facts) -> NaiveDate {
        match self.from {
            RetentionFrom::LastVisit => f.last_visit.unwrap_or(f.last_entry),
            RetentionFrom::TreatmentEnd | RetentionFrom::Discharge => {
                match (f.last_visit, f.last_reading) {
                    (Some(v), Some(r)) => v.max(r),
                    (Some(d), None) | (None, Some(d)) => d,
                    (None, None) => f.last_entry,
                }
            }
            RetentionFrom::LastEntry | RetentionFrom::Dormancy => f.last_entry,
        }
    }

    /// The date the record may go, and the clause that set it.
    pub fn decide(&self, f: &Facts) -> Decision {
        let anchor = self.anchor(f);
        if let (Some(death), Some(years)) = (f.death, self.after_death)
            && death < plus_years(anchor, years.into())
        {
            return Decision {
                anchor,
                keep_until: plus_years(death, years.into()),
                clause: Clause::Death,
            };
        }
        let period = plus_years(anchor, self.years.into());
        let minor = self
            .at_least_to_age
            .map(|age| plus_years(f.birth.unwrap_or(anchor), age.into()));
        match minor {
            Some(m) if m > period => Decision {
                anchor,
                keep_until: m,
                clause: Clause::Minor,
            },
            _ => Decision {
                anchor,
                keep_until: period,
                clause: Clause::Period,
            },
        }
    }

    /// The rule as the clinic's schema reads it (`retention_keep_until`): absent clauses
    /// are `null`.
    pub fn to_json(&self) -> Value {
        json!({
            "years": self.years,
            "from": self.from.code(),
            "at_least_to_age": self.at_least_to_age,
            "after_death": self.after_death,
        })
    }
}

/// The key of [`rules_by_country`] for every country without a reviewed policy.
pub const ANY_OTHER_COUNTRY: &str = "*";

/// Every reviewed country's rule by its code, and [`BASELINE`]'s under
/// [`ANY_OTHER_COUNTRY`]: the table `$erase`'s statement holds (`crate::api::erase`). The
/// edge may not know the clinic's country (a cold edge); the clinic's schema does (its
/// `clinic` row) and picks its own — so an erasure costs one call, and the rule always
/// comes from `policy_for`.
pub fn rules_by_country() -> Value {
    let mut table = serde_json::Map::new();
    for country in REVIEWED {
        let code = country.parse().expect("reviewed countries are valid codes");
        table.insert(
            country.to_owned(),
            Rule::of_policy(&policy_for(&code)).to_json(),
        );
    }
    table.insert(
        ANY_OTHER_COUNTRY.to_owned(),
        Rule::of_policy(&BASELINE).to_json(),
    );
    Value::Object(table)
}

/// What an erasure request can touch, and whether the law keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Data {
    /// The medical record: identity traits (names, birth date, sex, identifiers, death),
    /// visits that took place or were missed, readings, consents. Kept while within the
    /// clinic's retention period; purged whole after it.
    MedicalRecord,
    /// How to reach the patient: [`CONTACT_ELEMENTS`] of the Patient resource. Not needed
    /// to keep the record: erased on request.
    ContactDetails,
    /// Appointments that never held care: booked in the future (their slots are freed) or
    /// cancelled.
    UnheldAppointments,
    /// Copies of the clinic's answers about the patient kept for retried requests
    /// (idempotency keys): a cache, not a record.
    CachedResponses,
    /// Events about the patient in the clinic's webhook outbox (ids only), with their
    /// deliveries, sent or pending, and the attempts' log: a messenger's copies, not a
    /// record.
    WebhookEvents,
}

impl Data {
    pub const ALL: [Data; 5] = [
        Self::MedicalRecord,
        Self::ContactDetails,
        Self::UnheldAppointments,
        Self::CachedResponses,
        Self::WebhookEvents,
    ];

    /// The code an answer names it by; also its message key (`erase-<code>`).
    pub fn code(self) -> &'static str {
        match self {
            Self::MedicalRecord => "medical-record",
            Self::ContactDetails => "contact-details",
            Self::UnheldAppointments => "unheld-appointments",
            Self::CachedResponses => "cached-responses",
            Self::WebhookEvents => "webhook-events",
        }
    }

    /// Whether it is part of the medical record the law keeps.
    pub fn in_record(self) -> bool {
        self == Self::MedicalRecord
    }
}

/// The Patient elements that are contact details, not identity: what `$erase` removes from
/// a record it must keep. Identity traits (`name`, `birthDate`, `gender`, `identifier`,
/// `deceased[x]`, `multipleBirth[x]`) stay with the record: they are what makes it the
/// patient's. Our classification, not a legal text.
pub const CONTACT_ELEMENTS: [&str; 6] = [
    "telecom",
    "address",
    "photo",
    "contact",
    "communication",
    "maritalStatus",
];

/// The ground for keeping everything of a patient under legal hold.
pub const LEGAL_HOLD_GROUND: &str = "legal hold (litigation): GDPR art. 17(3)(e), the establishment, exercise or defence of legal claims";

/// The citation of a policy's retention, and whether it is confirmed law.
pub fn citation(p: &Policy) -> (&'static str, bool) {
    match p.retention.source {
        Source::Law(text) => (text, true),
        Source::Unconfirmed(why) => (why, false),
    }
}

/// `YYYY-MM-DD` of a day (what FHIR `date` and the SQL side use).
pub fn iso(d: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn rule(country: &str) -> Rule {
        Rule::of_policy(&policy_for(&country.parse().unwrap()))
    }

    /// An adult seen last on 2000-06-15, nothing since.
    fn adult() -> Facts {
        Facts {
            birth: Some(d("1960-03-01")),
            death: None,
            last_visit: Some(d("2000-06-15")),
            last_reading: Some(d("2001-01-10")),
            last_entry: d("2002-02-02"),
        }
    }

    #[test]
    fn each_country_counts_from_what_its_policy_says() {
        let f = adult();
        // FR: 20 years from the last visit (R1112-7).
        assert_eq!(rule("FR").decide(&f).keep_until, d("2020-06-15"));
        // DE: 10 years after the end of treatment, the later of visit and reading.
        assert_eq!(rule("DE").decide(&f).anchor, d("2001-01-10"));
        assert_eq!(rule("DE").decide(&f).keep_until, d("2011-01-10"));
        // ES: 5 years from discharge.
        assert_eq!(rule("ES").decide(&f).keep_until, d("2006-01-10"));
        // US: 6 years from the last entry.
        assert_eq!(rule("US").decide(&f).keep_until, d("2008-02-02"));
        // ZA: 6 years from dormancy (the last entry).
        assert_eq!(rule("ZA").decide(&f).keep_until, d("2008-02-02"));
        // An unreviewed country: the baseline's 10 years from the last visit.
        assert_eq!(rule("JP").decide(&f).keep_until, d("2010-06-15"));
        for c in ["FR", "DE", "ES", "US"] {
            assert_eq!(rule(c).decide(&f).clause, Clause::Period, "{c}");
        }
        // Due on the day, not the day before.
        let fr = rule("FR").decide(&f);
        assert!(!fr.due(d("2020-06-14")) && fr.due(d("2020-06-15")));
    }

    #[test]
    fn without_a_visit_the_period_runs_from_the_last_entry() {
        let f = Facts {
            last_visit: None,
            last_reading: None,
            ..adult()
        };
        assert_eq!(rule("FR").decide(&f).anchor, d("2002-02-02"));
        assert_eq!(rule("DE").decide(&f).anchor, d("2002-02-02"));
        let f = Facts {
            last_visit: None,
            ..adult()
        };
        assert_eq!(rule("DE").decide(&f).anchor, d("2001-01-10"), "the reading");
        assert_eq!(rule("FR").decide(&f).anchor, d("2002-02-02"), "no visit");
    }

    #[test]
    fn france_keeps_a_childs_record_to_the_28th_birthday() {
        let child = Facts {
            birth: Some(d("1995-09-30")),
            ..adult()
        };
        let decision = rule("FR").decide(&child);
        assert_eq!(decision.keep_until, d("2023-09-30"));
        assert_eq!(decision.clause, Clause::Minor);
        // No birth date: born on the anchor day at the latest.
        let unknown = Facts {
            birth: None,
            ..adult()
        };
        assert_eq!(rule("FR").decide(&unknown).keep_until, d("2028-06-15"));
        // Other countries' minors' rules: ZA to 21, CA to 28, GB to 26 (see the policy).
        let baby = Facts {
            birth: Some(d("2000-01-01")),
            ..adult()
        };
        assert_eq!(rule("ZA").decide(&baby).keep_until, d("2021-01-01"));
        assert_eq!(rule("CA").decide(&baby).keep_until, d("2028-01-01"));
        assert_eq!(rule("GB").decide(&baby).keep_until, d("2026-01-01"));
        assert_eq!(rule("DE").decide(&baby).clause, Clause::Period, "no rule");
    }

    #[test]
    fn france_counts_10_years_from_a_death_within_10_years_of_the_last_visit() {
        let died = Facts {
            death: Some(d("2003-04-04")),
            ..adult()
        };
        let decision = rule("FR").decide(&died);
        assert_eq!(
            (decision.keep_until, decision.clause),
            (d("2013-04-04"), Clause::Death)
        );
        // In all cases: a child who died is not kept to the 28th birthday.
        let child = Facts {
            birth: Some(d("1995-09-30")),
            ..died
        };
        assert_eq!(rule("FR").decide(&child).keep_until, d("2013-04-04"));
        // A death 10 years or more after the last visit changes nothing.
        let late = Facts {
            death: Some(d("2010-06-15")),
            ..adult()
        };
        assert_eq!(rule("FR").decide(&late).keep_until, d("2020-06-15"));
        // Countries without the rule ignore the death.
        assert_eq!(rule("DE").decide(&died).clause, Clause::Period);
    }

    #[test]
    fn the_29th_of_february_plus_years_is_the_28th_as_in_postgres() {
        let f = Facts {
            last_visit: Some(d("2000-02-29")),
            ..adult()
        };
        assert_eq!(rule("FR").decide(&f).keep_until, d("2020-02-29"));
        let f = Facts {
            last_entry: d("2004-02-29"),
            ..adult()
        };
        assert_eq!(rule("US").decide(&f).keep_until, d("2010-02-28"));
        assert_eq!(plus_years(NaiveDate::MAX, 20), NaiveDate::MAX);
    }

    #[test]
    fn the_table_holds_every_reviewed_country_and_the_baseline() {
        let t = rules_by_country();
        for c in REVIEWED {
            assert_eq!(t[c], rule(c).to_json(), "{c}");
        }
        assert_eq!(
            t["FR"],
            json!({"years": 20, "from": "last-visit", "at_least_to_age": 28, "after_death": 10})
        );
        assert_eq!(t["US"]["after_death"], Value::Null);
        assert_eq!(t[ANY_OTHER_COUNTRY], Rule::of_policy(&BASELINE).to_json());
    }

    #[test]
    fn citations_say_when_a_rule_is_not_confirmed() {
        let (text, confirmed) = citation(&policy_for(&"FR".parse().unwrap()));
        assert!(confirmed && text.contains("R1112-7"), "{text}");
        let (text, confirmed) = citation(&policy_for(&"SN".parse().unwrap()));
        assert!(!confirmed && text.contains("not confirmed"), "{text}");
    }

    #[test]
    fn only_the_medical_record_is_kept_by_law() {
        let kept: Vec<_> = Data::ALL.iter().filter(|d| d.in_record()).collect();
        assert_eq!(kept, [&Data::MedicalRecord]);
        assert_eq!(iso(d("0999-01-02")), "0999-01-02");
    }
}
