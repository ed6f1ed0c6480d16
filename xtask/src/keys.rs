//! The local stack's signing keys: generated once per checkout under `target/`, never
//! committed, never printed. Production keys live in each platform's secret store.

use std::{collections::BTreeMap, fs, path::Path};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use telemed_shared::auth::SigningKey;

/// The two key pairs of a local stack (base64 Ed25519 key pairs).
#[derive(Clone, Serialize, Deserialize)]
pub struct StackKeys {
    /// Signs API tokens (apps' access tokens in the regions, and `cargo xtask token`); the
    /// edge holds only its public half.
    pub api_issuer: String,
    /// A second issuer key, retiring: the regions still verify what it signed and the edges
    /// still accept it, next to `api_issuer` — a key rotation in progress, always, so the
    /// tests see two `kid`s in the JWKS and tokens of both accepted. Added to older key
    /// files on load.
    #[serde(default)]
    pub api_retiring: String,
    /// Signs edge→region tokens; the regions hold only its public half.
    pub edge: String,
    /// Each region's master key (`MASTER_KEYS` of its `regional-db`: `id:base64`), which
    /// wraps the data keys of the clinics homed there. Added to older key files on load.
    #[serde(default)]
    pub master_keys: BTreeMap<String, String>,
    /// Signs people's session cookies at the edges (`SESSION_KEYS`, base64 of 32 bytes).
    /// Added to older key files on load.
    #[serde(default)]
    pub session: String,
}

impl StackKeys {
    /// Loads the keys at `path`, or generates and stores them (mode 0600).
    pub fn load_or_create(path: &Path) -> Result<Self> {
        let mut keys = match fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .with_context(|| format!("reading {}", path.display()))?,
            Err(_) => StackKeys {
                api_issuer: SigningKey::from_seed(random()?).to_base64(),
                edge: SigningKey::from_seed(random()?).to_base64(),
                master_keys: BTreeMap::new(),
                session: String::new(),
                api_retiring: String::new(),
            },
        };
        let regions = telemed_shared::geo::RegionMap::embedded();
        let mut changed = !path.exists();
        if keys.api_retiring.is_empty() {
            keys.api_retiring = SigningKey::from_seed(random()?).to_base64();
            changed = true;
        }
        if keys.session.is_empty() {
            use base64::Engine;
            keys.session = base64::engine::general_purpose::STANDARD.encode(random()?);
            changed = true;
        }
        for region in regions.regions() {
            if !keys.master_keys.contains_key(region.id.as_str()) {
                use base64::Engine;
                let key = base64::engine::general_purpose::STANDARD.encode(random()?);
                keys.master_keys
                    .insert(region.id.to_string(), format!("{}-1:{key}", region.id));
                changed = true;
            }
        }
        if changed {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            fs::write(path, serde_json::to_vec_pretty(&keys)?)?;
            set_private(path)?;
        }
        Ok(keys)
    }

    /// `region`'s `MASTER_KEYS`.
    pub fn master_keys(&self, region: &str) -> Result<&str> {
        self.master_keys
            .get(region)
            .map(String::as_str)
            .with_context(|| format!("no master key for region {region}"))
    }

    pub fn api_signing_key(&self) -> Result<SigningKey> {
        SigningKey::from_base64(&self.api_issuer).context("api issuer key")
    }

    /// The retiring issuer key (see [`StackKeys::api_retiring`]).
    pub fn api_retiring_key(&self) -> Result<SigningKey> {
        SigningKey::from_base64(&self.api_retiring).context("retiring api issuer key")
    }

    /// The edges' `API_TOKEN_PUBLIC_KEYS`: the issuer's and the retiring key's.
    pub fn api_public(&self) -> Result<String> {
        Ok(format!(
            "{},{}",
            self.api_signing_key()?.public_base64(),
            self.api_retiring_key()?.public_base64()
        ))
    }

    /// The regions' `API_SIGNING_KEYS`: the issuer's first (it signs), the retiring one.
    pub fn api_signing_keys(&self) -> String {
        format!("{},{}", self.api_issuer, self.api_retiring)
    }

    pub fn edge_public(&self) -> Result<String> {
        Ok(SigningKey::from_base64(&self.edge)
            .context("edge key")?
            .public_base64())
    }
}

/// 32 random bytes (a key or a seed).
fn random() -> Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(seed)
}

/// Restricts a file holding secrets to its owner.
pub fn set_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .with_context(|| format!("chmod {}", path.display()))
}
