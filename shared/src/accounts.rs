//! People's accounts of one clinic: patients, practitioners and the clinic's admins, who
//! sign in to the clinic's pages with an email and a password (DESIGN.md, "Identity").
//!
//! Passwords are hashed (argon2id) and checked in the clinic's home region, never at the
//! edge: the edge sends a [`Password`] as a statement parameter of type
//! [`ParamType::Password`] (which the region replaces by its hash before binding) or in a
//! [`crate::dataplane::wire::SignInRequest`], and gets back an [`Account`], never a hash.
//! No catalog statement reads a hash (the service's database role may not even select the
//! column: `regional_db/migrations/tenant/0014_accounts.sql`); only the region's sign-in
//! code does, through a function of the clinic's schema.
//!
//! The password rule ([`check_password`]) is NIST SP 800-63B's: a length range, no
//! composition rules. The edge checks it to answer a form at once; the region checks it
//! again before hashing, so no client can store a password outside it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::dataplane::statement::{Access, Audit, ParamType, SchemaScope, Statement, opt, p};

/// The shortest password accepted, in characters (Unicode scalar values).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted, in characters: long passphrases are welcome, unbounded
/// input is not (it would be hashed).
pub const MAX_PASSWORD_CHARS: usize = 256;
/// The longest email address accepted (RFC 5321's path limit, less the angle brackets).
pub const MAX_EMAIL_BYTES: usize = 254;

/// What a person may do in a clinic. Stored as [`Role::as_str`] (the table checks it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A patient of the clinic; the account is linked to their `Patient`.
    Patient,
    /// A practitioner of the clinic; the account is linked to their `Practitioner`.
    Practitioner,
    /// The clinic's administrator (accounts, settings).
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Patient, Role::Practitioner, Role::Admin];

    /// The stored and wire name: `patient`, `practitioner`, `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Patient => "patient",
            Self::Practitioner => "practitioner",
            Self::Admin => "admin",
        }
    }

    /// The role [`Role::as_str`] names; `None` for anything else (case matters: the
    /// names are stored, not typed by people).
    pub fn parse(s: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A password in clear, on its way to the region. Never printed: its `Debug` is
/// `Password(…)`, and it has no `Display`. Serialised as a plain JSON string.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    pub fn new(clear: impl Into<String>) -> Self {
        Self(clear.into())
    }

    /// The clear text, for the one place that hashes or checks it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// Why a password is refused. The messages never quote the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    #[error("a password has at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// More than [`MAX_PASSWORD_CHARS`] characters.
    #[error("a password has at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
}

/// The password rule (NIST SP 800-63B §3.1.1.2): 12 to 256 characters, counted as Unicode
/// scalar values, any characters (spaces and emoji included), no composition rules.
pub fn check_password(password: &str) -> Result<(), PasswordError> {
    // Counting stops past the maximum: an oversized input costs no more than that.
    let chars = password.chars().take(MAX_PASSWORD_CHARS + 1).count();
    if chars < MIN_PASSWORD_CHARS {
        Err(PasswordError::TooShort)
    } else if chars > MAX_PASSWORD_CHARS {
        Err(PasswordError::TooLong)
    } else {
        Ok(())
    }
}

/// An email address as accounts are keyed by: trimmed and lower-cased (the table's unique
/// index is on `lower(email)`, and sign-in looks it up so). `None` when it cannot be an
/// address: empty, over [`MAX_EMAIL_BYTES`], without an `@` between two non-empty parts,
/// or with whitespace or control characters inside.
pub fn normalize_email(email: &str) -> Option<String> {
    let email = email.trim();
    let (local, domain) = email.rsplit_once('@')?;
    let ok = !local.is_empty()
        && !domain.is_empty()
        && email.len() <= MAX_EMAIL_BYTES
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then(|| email.to_lowercase())
}

/// Who signed in: what the edge's session holds. Ids are the clinic's uuids, as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub role: Role,
    pub display_name: String,
    /// The account's `Patient` (a patient account always has one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_id: Option<String>,
    /// The account's `Practitioner` (a practitioner account always has one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practitioner_id: Option<String>,
}

/// The accounts' statement names.
pub mod names {
    pub const ACCOUNT_CREATE: &str = "account.create";
    pub const ACCOUNT_READ: &str = "account.read";
    pub const ACCOUNT_LIST: &str = "account.list";
    pub const ACCOUNT_SET_DISABLED: &str = "account.set_disabled";
    pub const ACCOUNT_SET_PASSWORD: &str = "account.set_password";
}

/// The resource type accounts are audited as: accounts are personal data (an email, a
/// name), so creating, reading, listing and changing them is in the clinic's trail.
pub const ACCOUNT_AUDIT_TYPE: &str = "Account";

const fn audit(action: &'static str) -> Option<Audit> {
    Some(Audit {
        action,
        resource_type: ACCOUNT_AUDIT_TYPE,
    })
}

/// The accounts' statements, for the catalog ([`crate::dataplane::catalog::all`]). None
/// returns `password_hash`; a test keeps it so.
///
/// - `account.create(email, role, display_name, patient_id?, practitioner_id?, password)`
///   → `id, email, role, display_name`. A taken email (any case) is a `conflict`; a role
///   without its link (a patient without `patient_id`…) or an unknown role a
///   `constraint_violation`.
/// - `account.read(id)` → `id, email, role, display_name, patient_id, practitioner_id,
///   disabled, last_sign_in_at` (what a session re-checks).
/// - `account.list(limit)` → `id, email, role, display_name, disabled, last_sign_in_at`,
///   by email.
/// - `account.set_disabled(id, disabled)` → `id, disabled`.
/// - `account.set_password(id, password)` → `id`.
pub fn statements() -> Vec<Statement> {
    STATEMENTS.to_vec()
}

static STATEMENTS: &[Statement] = &[
    Statement {
        name: names::ACCOUNT_CREATE,
        sql: "INSERT INTO accounts (email, role, display_name, patient_id, practitioner_id, password_hash) \
                  VALUES (btrim($1), $2, $3, $4, $5, $6) \
                  RETURNING id, email, role, display_name",
        access: Access::Write,
        scope: SchemaScope::Tenant,
        params: &[
            p("email", ParamType::Text),
            p("role", ParamType::Text),
            p("display_name", ParamType::Text),
            opt("patient_id", ParamType::Uuid),
            opt("practitioner_id", ParamType::Uuid),
            p("password", ParamType::Password),
        ],
        audit: audit("create"),
    },
    Statement {
        name: names::ACCOUNT_READ,
        sql: "SELECT id, email, role, display_name, patient_id, practitioner_id, disabled, last_sign_in_at \
                  FROM accounts WHERE id = $1",
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[p("id", ParamType::Uuid)],
        audit: audit("read"),
    },
    Statement {
        name: names::ACCOUNT_LIST,
        sql: "SELECT id, email, role, display_name, disabled, last_sign_in_at \
                  FROM accounts ORDER BY lower(email) LIMIT $1",
        access: Access::Read,
        scope: SchemaScope::Tenant,
        params: &[p("limit", ParamType::Int8)],
        audit: audit("search"),
    },
    Statement {
        name: names::ACCOUNT_SET_DISABLED,
        sql: "UPDATE accounts SET disabled = $2 WHERE id = $1 RETURNING id, disabled",
        access: Access::Write,
        scope: SchemaScope::Tenant,
        params: &[p("id", ParamType::Uuid), p("disabled", ParamType::Bool)],
        audit: audit("update"),
    },
    Statement {
        name: names::ACCOUNT_SET_PASSWORD,
        sql: "UPDATE accounts SET password_hash = $2 WHERE id = $1 RETURNING id",
        access: Access::Write,
        scope: SchemaScope::Tenant,
        params: &[p("id", ParamType::Uuid), p("password", ParamType::Password)],
        audit: audit("update"),
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::catalog;

    #[test]
    fn roles_round_trip_and_nothing_else_parses() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(role.to_string(), role.as_str());
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
        }
        for bad in ["", "Admin", "ADMIN", " admin", "doctor", "superadmin"] {
            assert_eq!(Role::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_password_rule_is_a_length_range_in_characters() {
        assert_eq!(check_password(""), Err(PasswordError::TooShort));
        assert_eq!(check_password("elevenchars"), Err(PasswordError::TooShort));
        assert_eq!(check_password("twelve chars"), Ok(()));
        // No composition rules: lower-case letters and spaces are fine.
        assert_eq!(check_password("correct horse battery staple"), Ok(()));
        // Characters, not bytes: 12 accented letters (24 bytes) pass, 11 do not.
        assert_eq!(check_password(&"é".repeat(12)), Ok(()));
        assert_eq!(
            check_password(&"é".repeat(11)),
            Err(PasswordError::TooShort)
        );
        assert_eq!(check_password(&"🔑".repeat(12)), Ok(()));
        assert_eq!(check_password(&"a".repeat(256)), Ok(()));
        assert_eq!(
            check_password(&"a".repeat(257)),
            Err(PasswordError::TooLong)
        );
        assert_eq!(check_password(&"é".repeat(256)), Ok(()));
        // The message never quotes the password.
        let e = check_password("hunter2").unwrap_err().to_string();
        assert!(!e.contains("hunter2") && e.contains("12"), "{e}");
    }

    #[test]
    fn passwords_never_print() {
        let p = Password::new("my secret passphrase");
        assert_eq!(format!("{p:?}"), "Password(…)");
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            "\"my secret passphrase\""
        );
        let back: Password = serde_json::from_str("\"my secret passphrase\"").unwrap();
        assert_eq!(back.expose(), "my secret passphrase");
    }

    #[test]
    fn emails_are_keyed_lower_case_and_must_look_like_addresses() {
        assert_eq!(
            normalize_email("  Alice.Martin@Example.FR "),
            Some("alice.martin@example.fr".into())
        );
        for bad in [
            "",
            "alice",
            "@example.fr",
            "alice@",
            "a b@example.fr",
            "a\u{0}@x.fr",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad:?}");
        }
        let long = format!("{}@example.fr", "a".repeat(250));
        assert_eq!(normalize_email(&long), None);
    }

    #[test]
    fn accounts_are_in_the_catalog_and_no_statement_reads_a_hash() {
        for s in statements() {
            assert_eq!(catalog::lookup(s.name), Some(&s), "{}", s.name);
            assert_eq!(s.scope, SchemaScope::Tenant);
            assert!(s.audit.is_some(), "{}: accounts are personal data", s.name);
        }
        for s in catalog::all() {
            // Only the region's sign-in code reads hashes, through this function.
            assert!(!s.sql.contains("account_credentials"), "{}", s.name);
            if let Some(at) = s.sql.find("password_hash") {
                // Written (INSERT column list or SET), never selected nor returned.
                let returning = s.sql.find("RETURNING").unwrap_or(s.sql.len());
                assert!(
                    s.name.starts_with("account.") && at < returning,
                    "{} names password_hash",
                    s.name
                );
                assert!(!s.sql[returning..].contains("password_hash"), "{}", s.name);
                assert!(
                    s.params.iter().any(|p| p.ty == ParamType::Password),
                    "{}: a hash is only ever written from a Password parameter",
                    s.name
                );
            }
            // A bulk entry's password would be stored as sent: none may declare one.
            for param in s.params {
                if let ParamType::Rows(fields) = param.ty {
                    assert!(fields.iter().all(|f| f.ty != ParamType::Password));
                }
            }
        }
    }
}
