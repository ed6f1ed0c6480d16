//! The local stack's signing keys: generated once per checkout under `target/`, never
//! committed, never printed. Production keys live in each platform's secret store.

use std::{fs, path::Path};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use telemed_shared::auth::SigningKey;

/// The two key pairs of a local stack (base64 Ed25519 key pairs).
#[derive(Clone, Serialize, Deserialize)]
pub struct StackKeys {
    /// Signs API tokens (`cargo xtask token`); the edge holds only its public half.
    pub api_issuer: String,
    /// Signs edge→region tokens; the regions hold only its public half.
    pub edge: String,
}

impl StackKeys {
    /// Loads the keys at `path`, or generates and stores them (mode 0600).
    pub fn load_or_create(path: &Path) -> Result<Self> {
        if let Ok(text) = fs::read_to_string(path) {
            return serde_json::from_str(&text)
                .with_context(|| format!("reading {}", path.display()));
        }
        let fresh = || -> Result<String> {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            Ok(SigningKey::from_seed(seed).to_base64())
        };
        let keys = StackKeys {
            api_issuer: fresh()?,
            edge: fresh()?,
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(path, serde_json::to_vec_pretty(&keys)?)?;
        set_private(path)?;
        Ok(keys)
    }

    pub fn api_signing_key(&self) -> Result<SigningKey> {
        SigningKey::from_base64(&self.api_issuer).context("api issuer key")
    }

    pub fn api_public(&self) -> Result<String> {
        Ok(self.api_signing_key()?.public_base64())
    }

    pub fn edge_public(&self) -> Result<String> {
        Ok(SigningKey::from_base64(&self.edge)
            .context("edge key")?
            .public_base64())
    }
}

/// Restricts a file holding secrets to its owner.
pub fn set_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .with_context(|| format!("chmod {}", path.display()))
}
