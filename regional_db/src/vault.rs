//! Encryption at rest: each clinic's data key, wrapped by the region's master key, and
//! what it seals and blinds.
//!
//! - **Master keys** come from the region's configuration (`MASTER_KEYS`), never from the
//!   repository or the database: `id:base64,…`, the first one current. Older ones stay
//!   listed until `regional-db keys rotate` has re-wrapped every data key under the
//!   current one.
//! - **Data keys**: one random AES-256 key per clinic, stored in its schema
//!   (`data_keys`) only wrapped (AES-256-GCM, the clinic's schema name as associated data:
//!   a wrapped key copied into another clinic does not open). Created on first use;
//!   unwrapped once per process and kept in memory.
//! - **Sealed values** ([`ParamType::Sealed`]): AES-256-GCM under the data key with a
//!   random 96-bit nonce, bound to the clinic likewise: `v1 ‖ key id ‖ nonce ‖ ciphertext`.
//! - **Blind indexes** ([`ParamType::BlindToken`]): HMAC-SHA-256 of the token under a key
//!   derived from the data key, so an exact search works while the table holds neither the
//!   value nor anything another clinic could match.
//!
//! Rotation of the master key re-wraps data keys only: no sealed value is rewritten, no
//! request waits (each clinic's key is one short transaction, and serving instances keep
//! their unwrapped keys).

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex},
};

use aes_gcm::{
    Aes256Gcm, KeyInit,
    aead::{Aead, Payload},
};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use deadpool_postgres::GenericClient;
use serde_json::{Map, Value};
use telemed_shared::{
    dataplane::catalog::{Param, ParamType, SEALED_COLUMN},
    tenant::TenantSlug,
};

use crate::db::quote_ident;

/// The version byte of a sealed value.
const SEALED_V1: u8 = 1;
/// The only data key id so far (the table allows more, for a data-key rotation to come).
const DATA_KEY_ID: i16 = 1;
const NONCE_BYTES: usize = 12;

/// Why a key or a sealed value could not be used.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("MASTER_KEYS: {0}")]
    Config(String),
    #[error("no master keys are configured on this region (MASTER_KEYS)")]
    NotConfigured,
    #[error(
        "the data key of {slug} is wrapped by master key {id:?}, which this region's MASTER_KEYS do not hold"
    )]
    UnknownMasterKey { slug: String, id: String },
    /// Authentication failed: the wrong key, or altered bytes.
    #[error("{0} does not open: wrong key or altered data")]
    Tampered(&'static str),
    #[error("database: {0}")]
    Postgres(#[from] tokio_postgres::Error),
}

/// A 256-bit key. Never printed.
#[derive(Clone)]
struct Key([u8; 32]);

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    fn random() -> Result<Key, VaultError> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).map_err(|e| VaultError::Config(format!("no randomness: {e}")))?;
        Ok(Key(k))
    }

    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce)
            .map_err(|e| VaultError::Config(format!("no randomness: {e}")))?;
        let cipher = Aes256Gcm::new(&self.0.into());
        let ct = cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| VaultError::Tampered("a value to seal"))?;
        let mut out = Vec::with_capacity(NONCE_BYTES + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    fn open(&self, aad: &[u8], sealed: &[u8], what: &'static str) -> Result<Vec<u8>, VaultError> {
        if sealed.len() < NONCE_BYTES + 16 {
            return Err(VaultError::Tampered(what));
        }
        let (nonce, ct) = sealed.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| VaultError::Tampered(what))?;
        Aes256Gcm::new(&self.0.into())
            .decrypt(&nonce.into(), Payload { msg: ct, aad })
            .map_err(|_| VaultError::Tampered(what))
    }
}

/// The region's master keys: the current one first.
#[derive(Debug, Clone)]
pub struct MasterKeys {
    keys: Vec<(String, Key)>,
}

impl MasterKeys {
    /// Parses `id:base64-of-32-bytes,…`. Ids are short names (`2026-11`, `k2`).
    pub fn parse(list: &str) -> Result<MasterKeys, VaultError> {
        let mut keys: Vec<(String, Key)> = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (id, b64) = item
                .split_once(':')
                .ok_or_else(|| VaultError::Config("each key is id:base64".into()))?;
            let id = id.trim();
            if id.is_empty()
                || id.len() > 64
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(VaultError::Config(format!(
                    "key id {id:?}: 1 to 64 of A-Z a-z 0-9 - _ ."
                )));
            }
            let raw = B64
                .decode(b64.trim())
                .map_err(|_| VaultError::Config(format!("key {id}: not base64")))?;
            let key: [u8; 32] = raw
                .try_into()
                .map_err(|_| VaultError::Config(format!("key {id}: must be 32 bytes")))?;
            if keys.iter().any(|(k, _)| k == id) {
                return Err(VaultError::Config(format!("key id {id} appears twice")));
            }
            keys.push((id.to_owned(), Key(key)));
        }
        if keys.is_empty() {
            return Err(VaultError::NotConfigured);
        }
        Ok(MasterKeys { keys })
    }

    /// A fresh random master key as configuration text (`id:base64`), for tooling.
    pub fn generate(id: &str) -> Result<String, VaultError> {
        Ok(format!("{id}:{}", B64.encode(Key::random()?.0)))
    }

    /// The id of the key new data keys are wrapped with.
    pub fn current_id(&self) -> &str {
        &self.keys[0].0
    }

    fn current(&self) -> &Key {
        &self.keys[0].1
    }

    fn get(&self, id: &str) -> Option<&Key> {
        self.keys.iter().find(|(k, _)| k == id).map(|(_, key)| key)
    }
}

/// A clinic's data key, unwrapped, with the keys derived from it.
pub struct DataKey {
    key: Key,
    index_key: [u8; 32],
    /// Associated data of every value sealed for this clinic: its schema name.
    aad: Vec<u8>,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(…)")
    }
}

impl DataKey {
    fn new(key: Key, slug: &TenantSlug) -> DataKey {
        let index_key = hmac_sha256::HMAC::mac(b"telemed-edge blind index v1", key.0);
        DataKey {
            key,
            index_key,
            aad: slug.schema_name().into_bytes(),
        }
    }

    /// Seals `plaintext`: `v1 ‖ key id (2 bytes) ‖ nonce ‖ ciphertext and tag`.
    pub fn seal(&self, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        let mut out = vec![SEALED_V1];
        out.extend_from_slice(&DATA_KEY_ID.to_be_bytes());
        out.extend(self.key.seal(&self.aad, plaintext)?);
        Ok(out)
    }

    /// Opens what [`DataKey::seal`] sealed for this clinic.
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, VaultError> {
        match sealed {
            [SEALED_V1, hi, lo, rest @ ..] if i16::from_be_bytes([*hi, *lo]) == DATA_KEY_ID => {
                self.key.open(&self.aad, rest, "a sealed value")
            }
            _ => Err(VaultError::Tampered("a sealed value")),
        }
    }

    /// The blind index of `token`: lowercase hex of its HMAC.
    pub fn blind(&self, token: &str) -> String {
        hmac_sha256::HMAC::mac(token.as_bytes(), self.index_key)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The master keys and the data keys unwrapped so far. One per `regional-db` process.
#[derive(Debug)]
pub struct Vault {
    masters: MasterKeys,
    cache: Mutex<HashMap<TenantSlug, Arc<DataKey>>>,
}

impl Vault {
    pub fn new(masters: MasterKeys) -> Vault {
        Vault {
            masters,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, slug: &TenantSlug) -> Option<Arc<DataKey>> {
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(slug)
            .cloned()
    }

    /// The clinic's data key: from memory, else unwrapped from its schema through
    /// `client`; if it has none yet and `create` (a primary), a new one is made and stored.
    /// `None`: no key exists and none may be made here (a replica) — then nothing of the
    /// clinic's is sealed yet.
    pub async fn data_key(
        &self,
        client: &impl GenericClient,
        slug: &TenantSlug,
        create: bool,
    ) -> Result<Option<Arc<DataKey>>, VaultError> {
        if let Some(key) = self.cached(slug) {
            return Ok(Some(key));
        }
        let table = format!("{}.data_keys", quote_ident(&slug.schema_name()));
        let select = format!("SELECT wrapped, master_key_id FROM {table} WHERE id = $1");
        let mut row = client.query_opt(&select, &[&DATA_KEY_ID]).await?;
        if row.is_none() && create {
            let fresh = Key::random()?;
            let wrapped = self.masters.current().seal(&wrap_aad(slug), &fresh.0)?;
            // A concurrent first use may have stored its own: whichever landed is the key.
            client
                .execute(
                    &format!(
                        "INSERT INTO {table} (id, wrapped, master_key_id) VALUES ($1, $2, $3) \
                         ON CONFLICT (id) DO NOTHING"
                    ),
                    &[&DATA_KEY_ID, &wrapped, &self.masters.current_id()],
                )
                .await?;
            row = client.query_opt(&select, &[&DATA_KEY_ID]).await?;
        }
        let Some(row) = row else {
            return Ok(None);
        };
        let wrapped: Vec<u8> = row.try_get(0)?;
        let master_id: String = row.try_get(1)?;
        let key = Arc::new(DataKey::new(self.unwrap(slug, &master_id, &wrapped)?, slug));
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(slug.clone(), key.clone());
        Ok(Some(key))
    }

    fn unwrap(
        &self,
        slug: &TenantSlug,
        master_id: &str,
        wrapped: &[u8],
    ) -> Result<Key, VaultError> {
        let master = self
            .masters
            .get(master_id)
            .ok_or_else(|| VaultError::UnknownMasterKey {
                slug: slug.to_string(),
                id: master_id.to_owned(),
            })?;
        let raw = master.open(&wrap_aad(slug), wrapped, "a wrapped data key")?;
        let key: [u8; 32] = raw
            .try_into()
            .map_err(|_| VaultError::Tampered("a wrapped data key"))?;
        Ok(Key(key))
    }

    /// Re-wraps `slug`'s data key under the current master key if another one wraps it, in
    /// one short transaction (the row is locked while it is rewritten). Whether it did.
    pub async fn rewrap(
        &self,
        client: &mut deadpool_postgres::Client,
        slug: &TenantSlug,
    ) -> Result<bool, VaultError> {
        let table = format!("{}.data_keys", quote_ident(&slug.schema_name()));
        let tx = client.transaction().await?;
        let rows = tx
            .query(
                &format!("SELECT id, wrapped, master_key_id FROM {table} FOR UPDATE"),
                &[],
            )
            .await?;
        let mut changed = false;
        for row in rows {
            let id: i16 = row.try_get(0)?;
            let wrapped: Vec<u8> = row.try_get(1)?;
            let master_id: String = row.try_get(2)?;
            if master_id == self.masters.current_id() {
                continue;
            }
            let key = self.unwrap(slug, &master_id, &wrapped)?;
            let rewrapped = self.masters.current().seal(&wrap_aad(slug), &key.0)?;
            tx.execute(
                &format!(
                    "UPDATE {table} SET wrapped = $2, master_key_id = $3, rewrapped_at = now() \
                     WHERE id = $1"
                ),
                &[&id, &rewrapped, &self.masters.current_id()],
            )
            .await?;
            changed = true;
        }
        tx.commit().await?;
        Ok(changed)
    }
}

/// What `regional-db keys rotate` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Clinics whose data key was re-wrapped under the current master key.
    pub rewrapped: usize,
    /// Clinics already under it, or without a data key yet.
    pub unchanged: usize,
}

/// Re-wraps the data key of every clinic in `slugs` under the current master key, one
/// clinic per short transaction: serving never stops, and a rotation interrupted halfway
/// is finished by running it again.
pub async fn rotate(
    vault: &Vault,
    pool: &deadpool_postgres::Pool,
    slugs: &[TenantSlug],
) -> Result<Rotation, crate::Error> {
    let mut client = pool.get().await.map_err(crate::migrate::pool_error)?;
    let mut done = Rotation::default();
    for slug in slugs {
        if vault.rewrap(&mut client, slug).await? {
            done.rewrapped += 1;
        } else {
            done.unchanged += 1;
        }
    }
    Ok(done)
}

/// Associated data of a clinic's wrapped data key.
fn wrap_aad(slug: &TenantSlug) -> Vec<u8> {
    format!("data-key:{}", slug.schema_name()).into_bytes()
}

/// Replaces, in `value` (a parameter of type `ty`), what must not reach the database in
/// clear: sealed values by base64 of their ciphertext, tokens by their blind indexes.
/// `key` is `None` only where no data key exists (a replica before the clinic's first
/// write): tokens then become a value no index holds. Other types pass unchanged.
pub fn protect(ty: ParamType, value: &mut Value, key: Option<&DataKey>) -> Result<(), VaultError> {
    if value.is_null() {
        return Ok(());
    }
    let blind = |token: &str| key.map_or_else(String::new, |k| k.blind(token));
    match ty {
        ParamType::Sealed => {
            let key = key.ok_or(VaultError::NotConfigured)?;
            let plaintext = serde_json::to_vec(value).unwrap_or_default();
            *value = Value::String(B64.encode(key.seal(&plaintext)?));
        }
        ParamType::BlindToken => {
            if let Some(token) = value.as_str() {
                *value = Value::String(blind(token));
            }
        }
        ParamType::BlindTokens => {
            if let Some(tokens) = value.as_array_mut() {
                for t in tokens {
                    if let Some(token) = t.as_str() {
                        *t = Value::String(blind(token));
                    }
                }
            }
        }
        ParamType::Rows(fields) => {
            if let Some(rows) = value.as_array_mut() {
                for row in rows.iter_mut().filter_map(Value::as_object_mut) {
                    protect_fields(fields, row, key)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn protect_fields(
    fields: &[Param],
    row: &mut Map<String, Value>,
    key: Option<&DataKey>,
) -> Result<(), VaultError> {
    for field in fields {
        if let Some(v) = row.get_mut(field.name) {
            protect(field.ty, v, key)?;
        }
    }
    Ok(())
}

/// Opens every row's [`SEALED_COLUMN`] (Postgres `bytea` as JSON: `"\\x…"` hex) back into
/// the JSON that was sealed. Rows without one are left as they are.
pub fn open_rows<'a>(
    rows: impl IntoIterator<Item = &'a mut Map<String, Value>>,
    key: Option<&DataKey>,
) -> Result<(), VaultError> {
    for row in rows {
        let Some(Value::String(hex)) = row.get(SEALED_COLUMN) else {
            continue;
        };
        let key = key.ok_or(VaultError::Tampered("a sealed value (no data key)"))?;
        let bytes = hex
            .strip_prefix("\\x")
            .and_then(from_hex)
            .ok_or(VaultError::Tampered("a sealed value"))?;
        let plain = key.open(&bytes)?;
        let value: Value =
            serde_json::from_slice(&plain).map_err(|_| VaultError::Tampered("a sealed value"))?;
        row.insert(SEALED_COLUMN.to_owned(), value);
    }
    Ok(())
}

/// Whether any row carries a sealed value to open.
pub fn any_sealed<'a>(mut rows: impl Iterator<Item = &'a Map<String, Value>>) -> bool {
    rows.any(|r| matches!(r.get(SEALED_COLUMN), Some(Value::String(_))))
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn slug(s: &str) -> TenantSlug {
        s.parse().unwrap()
    }

    fn data_key(s: &str) -> DataKey {
        DataKey::new(Key([7; 32]), &slug(s))
    }

    #[test]
    fn master_keys_parse_strictly() {
        let k = MasterKeys::generate("k2").unwrap();
        let keys =
            MasterKeys::parse(&format!("{k}, {}", MasterKeys::generate("k1").unwrap())).unwrap();
        assert_eq!(keys.current_id(), "k2");
        assert!(keys.get("k1").is_some());
        for bad in [
            "",
            "k1",
            "k1:notbase64!",
            "k1:AAAA",
            "bad id:AAAA",
            &format!("{k},{k}"),
        ] {
            assert!(MasterKeys::parse(bad).is_err(), "{bad:?}");
        }
        // The key never shows in logs.
        assert_eq!(format!("{keys:?}").matches("Key(…)").count(), 2);
        assert!(!format!("{keys:?}").contains(k.split_once(':').unwrap().1));
    }

    #[test]
    fn sealed_values_open_with_their_clinics_key_only() {
        let paris = data_key("hopital-paris");
        let sealed = paris.seal(b"2061275111005 64").unwrap();
        assert!(!sealed.windows(13).any(|w| w == b"2061275111005"));
        assert_eq!(paris.open(&sealed).unwrap(), b"2061275111005 64");
        // Same key bytes, another clinic: the associated data differs.
        assert!(data_key("clinique-dakar").open(&sealed).is_err());
        // Any altered byte is detected.
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(paris.open(&bad).is_err(), "byte {i}");
        }
        // Two seals of one value differ (random nonces).
        assert_ne!(paris.seal(b"x").unwrap(), paris.seal(b"x").unwrap());
    }

    #[test]
    fn blind_indexes_are_keyed_and_stable() {
        let paris = data_key("hopital-paris");
        let other = DataKey::new(Key([8; 32]), &slug("hopital-paris"));
        let t = "=urn:oid:1.2.250.1.213.1.4.8|206127511100564";
        assert_eq!(paris.blind(t), paris.blind(t));
        assert_eq!(paris.blind(t).len(), 64);
        assert_ne!(paris.blind(t), other.blind(t));
        assert_ne!(paris.blind(t), paris.blind("*206127511100564"));
    }

    #[test]
    fn protect_then_open_round_trips_and_hides_the_value() {
        let key = data_key("hopital-paris");
        let payload = json!({"identifier": [[0, {"system": "urn:x", "value": "206127511100564"}]]});
        let mut sealed = payload.clone();
        protect(ParamType::Sealed, &mut sealed, Some(&key)).unwrap();
        let stored = B64.decode(sealed.as_str().unwrap()).unwrap();
        // What Postgres gives back for a bytea column.
        let hex: String = stored.iter().map(|b| format!("{b:02x}")).collect();
        let mut row = Map::from_iter([(SEALED_COLUMN.to_owned(), json!(format!("\\x{hex}")))]);
        assert!(!row[SEALED_COLUMN].to_string().contains("206127511100564"));
        open_rows([&mut row], Some(&key)).unwrap();
        assert_eq!(row[SEALED_COLUMN], payload);

        let mut tokens = json!(["=a|1", "*1"]);
        protect(ParamType::BlindTokens, &mut tokens, Some(&key)).unwrap();
        assert_eq!(tokens, json!([key.blind("=a|1"), key.blind("*1")]));
        // Bulk entries: only the declared keys change.
        static FIELDS: &[Param] = &[telemed_shared::dataplane::catalog::Param {
            name: "identifiers",
            ty: ParamType::BlindTokens,
            nullable: true,
        }];
        let mut rows = json!([{"identifiers": ["=a|1"], "family": "Martin"}]);
        protect(ParamType::Rows(FIELDS), &mut rows, Some(&key)).unwrap();
        assert_eq!(
            rows,
            json!([{"identifiers": [key.blind("=a|1")], "family": "Martin"}])
        );
        // Without a key (a replica before the first write), a token matches nothing.
        let mut t = json!("=a|1");
        protect(ParamType::BlindToken, &mut t, None).unwrap();
        assert_eq!(t, json!(""));
        assert!(protect(ParamType::Sealed, &mut json!({"a": 1}), None).is_err());
    }
}
