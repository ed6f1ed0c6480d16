//! National identifiers a patient record may carry, each checked by its own rules wherever
//! it is supplied (REFERENCE.md, "Country rules — identifiers"):
//!
//! - France, NIR as used for the INS (`urn:oid:1.2.250.1.213.1.4.8`): 13 characters and a
//!   two-digit key = 97 − (NIR mod 97), Corsica's departments `2A`/`2B` counting as 19/18
//!   for the key.
//! - South Africa, identity number: 13 digits `YYMMDD SSSS C A Z`, a real date that agrees
//!   with `Patient.birthDate`, C = 0 (citizen) or 1 (permanent resident), Z a Luhn check
//!   digit. No HL7-registered identifier system for it was found: the API names it
//!   [`ZA_ID`], its own, until one is.
//! - United States, Social Security number (`http://hl7.org/fhir/sid/us-ssn`): nine digits
//!   (dashes allowed as `AAA-GG-SSSS`), never area 000, 666 or 900–999, group 00 or serial
//!   0000; it has no check digit.

/// The identifier systems checked here.
pub const FR_INS_NIR: &str = "urn:oid:1.2.250.1.213.1.4.8";
pub const ZA_ID: &str = "https://telemed-edge.health/fhir/sid/za-id";
pub const US_SSN: &str = "http://hl7.org/fhir/sid/us-ssn";

/// A national identifier scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NationalId {
    FrNir,
    ZaId,
    UsSsn,
}

impl NationalId {
    pub const ALL: [NationalId; 3] = [Self::FrNir, Self::ZaId, Self::UsSsn];

    /// The scheme of an identifier system, if it is one checked here.
    pub fn of_system(system: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.system() == system)
    }

    pub fn system(self) -> &'static str {
        match self {
            Self::FrNir => FR_INS_NIR,
            Self::ZaId => ZA_ID,
            Self::UsSsn => US_SSN,
        }
    }

    /// What it is called in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::FrNir => "French NIR (INS)",
            Self::ZaId => "South African identity number",
            Self::UsSsn => "US Social Security number",
        }
    }

    /// Checks `value`; `birth_date` (`YYYY-MM-DD`, when the record has a full one) must
    /// agree with what the identifier encodes of it. The error says what is wrong, never
    /// echoing the value.
    pub fn check(self, value: &str, birth_date: Option<&str>) -> Result<(), String> {
        match self {
            Self::FrNir => check_nir(value),
            Self::ZaId => check_za_id(value, birth_date),
            Self::UsSsn => check_ssn(value),
        }
    }
}

fn check_nir(value: &str) -> Result<(), String> {
    let v = value.to_ascii_uppercase();
    if v.len() != 15 || !v.is_ascii() {
        return Err("a NIR has 15 characters: 13, then a 2-digit key".into());
    }
    let (body, key) = v.split_at(13);
    // Corsica: 2A and 2B stand for 19 and 18 in the key's arithmetic.
    let numeric = match &body[5..7] {
        "2A" => format!("{}19{}", &body[..5], &body[7..]),
        "2B" => format!("{}18{}", &body[..5], &body[7..]),
        _ => body.to_owned(),
    };
    let (Ok(n), Ok(key)) = (numeric.parse::<u64>(), key.parse::<u64>()) else {
        return Err("a NIR is digits (2A or 2B for a Corsican department)".into());
    };
    if !numeric.bytes().all(|b| b.is_ascii_digit())
        || !matches!(numeric.as_bytes()[0], b'1'..=b'4' | b'7' | b'8')
    {
        return Err("a NIR starts with its sex digit (1, 2, 3, 4, 7 or 8)".into());
    }
    if key != 97 - n % 97 {
        return Err("the NIR's key does not match its 13 digits".into());
    }
    Ok(())
}

fn check_za_id(value: &str, birth_date: Option<&str>) -> Result<(), String> {
    let b = value.as_bytes();
    if b.len() != 13 || !b.iter().all(u8::is_ascii_digit) {
        return Err("a South African identity number has 13 digits".into());
    }
    let two = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    let (yy, mm, dd) = (two(0), two(2), two(4));
    if !(1..=12).contains(&mm)
        || dd == 0
        || dd > crate::fhir::datatypes::days_in_month(2000 + yy, mm)
    {
        return Err("the identity number's first six digits are not a date (YYMMDD)".into());
    }
    if !matches!(b[10], b'0' | b'1') {
        return Err(
            "the identity number's 11th digit is 0 (citizen) or 1 (permanent resident)".into(),
        );
    }
    // Luhn over all 13 digits, the last being the check digit.
    let sum: u32 = b
        .iter()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = u32::from(c - b'0');
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    if !sum.is_multiple_of(10) {
        return Err("the identity number's check digit does not match".into());
    }
    // YYMMDD against a full birthDate (a partial one says too little to compare).
    if let Some(birth) = birth_date.filter(|d| d.len() == 10 && d.is_ascii())
        && (&birth[2..4], &birth[5..7], &birth[8..10]) != (&value[0..2], &value[2..4], &value[4..6])
    {
        return Err("the identity number's birth date is not the patient's birthDate".into());
    }
    Ok(())
}

fn check_ssn(value: &str) -> Result<(), String> {
    let digits: String = match value.len() {
        9 => value.to_owned(),
        11 if value.as_bytes()[3] == b'-' && value.as_bytes()[6] == b'-' => value.replace('-', ""),
        _ => return Err("an SSN is 9 digits, or AAA-GG-SSSS".into()),
    };
    if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("an SSN is 9 digits, or AAA-GG-SSSS".into());
    }
    let (area, group, serial) = (&digits[..3], &digits[3..5], &digits[5..]);
    if area == "000" || area == "666" || area.starts_with('9') {
        return Err("an SSN's area (its first 3 digits) is never 000, 666 or 900–999".into());
    }
    if group == "00" || serial == "0000" {
        return Err("an SSN's group is never 00, nor its serial 0000".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nir_keys() {
        // REFERENCE.md: 2061275111005 → key 64.
        assert_eq!(NationalId::FrNir.check("206127511100564", None), Ok(()));
        assert!(
            NationalId::FrNir
                .check("206127511100565", None)
                .unwrap_err()
                .contains("key")
        );
        // Corsica: 2A counts as 19, 2B as 18.
        let corsican = |dept: &str, as_number: &str| {
            let body = format!("18504{dept}004012");
            let n: u64 = format!("18504{as_number}004012").parse().unwrap();
            format!("{body}{:02}", 97 - n % 97)
        };
        assert_eq!(NationalId::FrNir.check(&corsican("2A", "19"), None), Ok(()));
        assert_eq!(NationalId::FrNir.check(&corsican("2b", "18"), None), Ok(()));
        assert!(
            NationalId::FrNir
                .check(&corsican("2A", "18"), None)
                .is_err()
        );
        for bad in [
            "",
            "20612751110056",
            "506127511100564",
            "2061275111005XX",
            "٢٠٦١٢٧٥١١١٠٠٥٦٤",
        ] {
            assert!(NationalId::FrNir.check(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn south_african_ids() {
        // REFERENCE.md: 8001015009087 is valid (born 1980-01-01).
        assert_eq!(NationalId::ZaId.check("8001015009087", None), Ok(()));
        assert_eq!(
            NationalId::ZaId.check("8001015009087", Some("1980-01-01")),
            Ok(())
        );
        assert!(
            NationalId::ZaId
                .check("8001015009087", Some("1980-01-02"))
                .unwrap_err()
                .contains("birthDate")
        );
        assert!(
            NationalId::ZaId
                .check("8001015009088", None)
                .unwrap_err()
                .contains("check digit")
        );
        assert!(
            NationalId::ZaId
                .check("8013015009087", None)
                .unwrap_err()
                .contains("date")
        );
        assert!(
            NationalId::ZaId.check("8001015009287", None).is_err(),
            "C must be 0 or 1"
        );
        assert!(NationalId::ZaId.check("800101500908", None).is_err());
        assert_eq!(
            NationalId::ZaId.check("8001015009087", Some("1980")),
            Ok(()),
            "a partial birthDate is not compared"
        );
    }

    #[test]
    fn social_security_numbers() {
        for ok in ["123-45-6789", "123456789", "899-01-0001"] {
            assert_eq!(NationalId::UsSsn.check(ok, None), Ok(()), "{ok}");
        }
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "912-34-5678",
            "123-00-4567",
            "123-45-0000",
            "12-345-6789",
            "12345678",
            "abc-de-fghi",
        ] {
            assert!(NationalId::UsSsn.check(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn systems_name_their_scheme() {
        for n in NationalId::ALL {
            assert_eq!(NationalId::of_system(n.system()), Some(n));
        }
        assert_eq!(NationalId::of_system("urn:other"), None);
    }
}
