//! What a named statement is: its SQL, whether it writes, which schema it runs in, its
//! typed parameters and what the audit trail records of it. The catalog
//! ([`super::catalog`]) lists them; resources ([`crate::api::resources`]) declare theirs
//! with these types, so this module depends on nothing.

/// Whether a statement changes data: writes run on the primary in one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// Which schema a statement runs in. Tenant statements run with `search_path` pinned to the
/// token's clinic; control statements are used by the region itself (the directory) and are
/// never accepted in a batch from the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaScope {
    Tenant,
    Control,
}

/// The Postgres type a parameter is bound as, and the JSON it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// JSON string.
    Text,
    /// JSON integer within i64.
    Int8,
    /// JSON string holding a UUID.
    Uuid,
    /// Any JSON value, bound as `jsonb`.
    Jsonb,
    /// JSON boolean.
    Bool,
    /// JSON string holding an RFC 3339 instant (`2026-12-01T09:00:00+01:00`), bound as
    /// `timestamptz`.
    Timestamptz,
    /// Any JSON value (or `null`) that must never be stored in clear: the region seals it
    /// with the clinic's data key (AES-256-GCM) and binds the ciphertext as `bytea`. A row's
    /// [`SEALED_COLUMN`] is opened again by the region before it answers.
    Sealed,
    /// JSON string: a search token the region replaces by its keyed blind index (an HMAC
    /// under a key derived from the clinic's data key), bound as `text`, so an exact match
    /// works without the stored value being readable.
    BlindToken,
    /// JSON array of strings, each replaced by its blind index ([`ParamType::BlindToken`]),
    /// bound as `jsonb`.
    BlindTokens,
    /// JSON string: a password the region replaces by its argon2id hash (a PHC string,
    /// `$argon2id$v=19$m=19456,t=2,p=1$…`) before binding it as `text`, as it replaces a
    /// [`ParamType::Sealed`] value by its ciphertext: a password is hashed in the region,
    /// never at the edge, and never reaches the database (nor a log) in clear. The region
    /// refuses one outside [`crate::accounts::check_password`]'s bounds.
    Password,
    /// JSON string holding a marketplace app's id (or `null`): the region replaces it by
    /// that app's webhook signing key — read from the control plane through
    /// `control.app_webhook_secret`, which no statement may select otherwise — sealed with
    /// the clinic's data key, and binds the ciphertext as `bytea` (as a clinic endpoint's
    /// `secret_sealed`); `null` when the app is not approved or has no webhook. The key
    /// never reaches the edge ([`crate::apps`]).
    AppWebhookSecret,
    /// A jsonb array of objects (a bulk statement's entries) whose keys named by these
    /// parameters the region protects as their types say ([`ParamType::Sealed`] as base64
    /// of the ciphertext, [`ParamType::BlindTokens`] as blind indexes); other keys pass as
    /// they are.
    Rows(&'static [Param]),
}

/// The column a statement's rows carry [`ParamType::Sealed`] values in (as `bytea`): the
/// region opens it before answering, so callers read the JSON that was sealed.
pub const SEALED_COLUMN: &str = "sealed";

impl ParamType {
    /// Whether binding a value of this type needs the clinic's data key.
    pub fn needs_data_key(self) -> bool {
        match self {
            Self::Sealed | Self::BlindToken | Self::BlindTokens | Self::AppWebhookSecret => true,
            Self::Rows(fields) => fields.iter().any(|f| f.ty.needs_data_key()),
            _ => false,
        }
    }
}

/// One declared parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub ty: ParamType,
    /// Whether JSON `null` is accepted (bound as SQL NULL).
    pub nullable: bool,
}

/// What the audit trail records when a statement touches health data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Audit {
    /// The verb: `create`, `read`, `search`.
    pub action: &'static str,
    pub resource_type: &'static str,
}

/// A named statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement {
    pub name: &'static str,
    pub sql: &'static str,
    pub access: Access,
    pub scope: SchemaScope,
    pub params: &'static [Param],
    /// `Some` for statements over health data: the region appends an audit event (with the
    /// `id` of every returned row) in the same transaction.
    pub audit: Option<Audit>,
}

pub const fn p(name: &'static str, ty: ParamType) -> Param {
    Param {
        name,
        ty,
        nullable: false,
    }
}
pub const fn opt(name: &'static str, ty: ParamType) -> Param {
    Param {
        name,
        ty,
        nullable: true,
    }
}
