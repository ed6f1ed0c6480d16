//! Password hashing: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane), as PHC
//! strings (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
//!
//! Hashing costs tens of milliseconds of CPU and 19 MiB: it runs on tokio's blocking pool
//! ([`tokio::task::spawn_blocking`]), never on a runtime worker, so sign-ins cannot stall
//! the batches served meanwhile. Verification reads the parameters from the stored string:
//! raising them later re-hashes nothing and breaks no stored hash.
//!
//! Clear passwords only pass through here as [`Password`] (whose `Debug` hides them); no
//! error of this module carries one.

use std::sync::OnceLock;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use serde_json::Value;
use telemed_shared::{
    accounts::{Password, check_password},
    dataplane::wire::{ErrorCode, RegionError},
};

/// OWASP Password Storage Cheat Sheet, argon2id: m = 19 MiB, t = 2, p = 1.
pub const M_COST_KIB: u32 = 19_456;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;

/// Why a password could not be hashed. Never carries the password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// The password is outside the rule ([`check_password`]).
    #[error(transparent)]
    Rule(#[from] telemed_shared::accounts::PasswordError),
    /// No randomness for the salt.
    #[error("no randomness for a salt: {0}")]
    Random(String),
    /// The hasher failed (it does not for valid parameters), or its task was lost.
    #[error("argon2: {0}")]
    Argon2(String),
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).expect("valid OWASP parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `password` (checked against the rule first) on the blocking pool: its PHC string.
pub async fn hash(password: Password) -> Result<String, HashError> {
    check_password(password.expose())?;
    tokio::task::spawn_blocking(move || hash_now(&password))
        .await
        .map_err(|e| HashError::Argon2(format!("hashing task: {e}")))?
}

fn hash_now(password: &Password) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| HashError::Random(e.to_string()))?;
    hasher()
        .hash_password_with_salt(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError::Argon2(e.to_string()))
}

/// Whether `password` matches `phc` (a stored hash), on the blocking pool. A hash that does
/// not parse matches nothing (and is logged: it should not exist).
pub async fn verify(password: Password, phc: String) -> bool {
    tokio::task::spawn_blocking(move || verify_now(&password, &phc))
        .await
        .unwrap_or(false)
}

fn verify_now(password: &Password, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        tracing::error!("a stored password hash is not a PHC string");
        return false;
    };
    hasher()
        .verify_password(password.expose().as_bytes(), &parsed)
        .is_ok()
}

/// A hash of a random password, computed once per process, with the same parameters as
/// every stored hash: sign-in verifies against it when the email has no account, so an
/// unknown email costs what a known one costs and the answer's timing tells nothing.
pub async fn dummy_hash() -> String {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return h.clone();
    }
    let mut raw = [0u8; 24];
    // Without randomness the dummy still costs the same; only its input is predictable,
    // and it guards no account.
    let _ = getrandom::fill(&mut raw);
    let clear: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let made = tokio::task::spawn_blocking(move || hash_now(&Password::new(clear)))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    DUMMY.get_or_init(|| made).clone()
}

/// Replaces a [`telemed_shared::dataplane::catalog::ParamType::Password`] parameter (a JSON
/// string) by its hash, in place, before the parameters are bound: what the vault does for
/// sealed values. Call `index` names the statement in a refusal.
pub async fn protect(value: &mut Value, index: usize, param: &str) -> Result<(), RegionError> {
    if value.is_null() {
        return Ok(());
    }
    let bad = |m: String| RegionError::new(ErrorCode::BadRequest, m).at(index);
    let Some(clear) = value.as_str() else {
        return Err(bad(format!(
            "statement {index}: parameter `{param}` must be a string"
        )));
    };
    let hashed = hash(Password::new(clear)).await.map_err(|e| match e {
        HashError::Rule(rule) => {
            RegionError::new(ErrorCode::InvalidValue, format!("`{param}`: {rule}")).at(index)
        }
        other => {
            tracing::error!(error = %other, "password hashing");
            crate::error::internal().at(index)
        }
    })?;
    *value = Value::String(hashed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_owasp_salted_and_verify() {
        let clear = "correct horse battery staple";
        let h = hash(Password::new(clear)).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!h.contains(clear));
        // Salted: the same password hashes differently each time.
        assert_ne!(h, hash(Password::new(clear)).await.unwrap());
        assert!(verify(Password::new(clear), h.clone()).await);
        assert!(!verify(Password::new("correct horse battery stapl"), h.clone()).await);
        assert!(!verify(Password::new(clear), "not a hash".into()).await);
        let dummy = dummy_hash().await;
        assert!(
            dummy.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{dummy}"
        );
        assert_eq!(dummy, dummy_hash().await, "computed once");
    }

    #[tokio::test]
    async fn the_rule_is_enforced_and_refusals_never_quote_the_password() {
        assert!(matches!(
            hash(Password::new("short")).await,
            Err(HashError::Rule(_))
        ));
        let mut v = Value::String("tooshort".into());
        let e = protect(&mut v, 2, "password").await.unwrap_err();
        assert_eq!((e.code, e.statement), (ErrorCode::InvalidValue, Some(2)));
        assert!(!e.message.contains("tooshort"), "{}", e.message);
        let mut v = Value::String("long enough password".into());
        protect(&mut v, 0, "password").await.unwrap();
        assert!(v.as_str().unwrap().starts_with("$argon2id$"));
        let mut n = Value::Null;
        protect(&mut n, 0, "password").await.unwrap();
        assert!(n.is_null());
    }
}
