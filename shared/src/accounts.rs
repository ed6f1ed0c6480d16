//! The people who sign in to one clinic: patients, practitioners and the clinic's admins.

use serde::{Deserialize, Serialize};

/// What an account may do in its clinic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Patient,
    Practitioner,
    Admin,
}

/// The longest password an account may have (NIST SP 800-63B: accept at least 64).
pub const MAX_PASSWORD_CHARS: usize = 256;
