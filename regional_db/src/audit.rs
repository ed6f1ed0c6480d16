//! The audit trail's tamper evidence: each clinic's records form a hash chain, and
//! [`verify`] walks it (`regional-db audit verify --tenant SLUG`).
//!
//! # The chain
//! Every record of a clinic's `audit_events` has a `chain_seq` (1, 2, 3… without gaps) and
//! `hash = sha256(hash of record chain_seq - 1 || canonical(record))`, the first chaining
//! from 32 zero bytes. The database computes both, in a `BEFORE INSERT` trigger
//! (`migrations/tenant/0010_audit_chain.sql`), so every way a record enters — a batch, a
//! refused batch's outcome, a replica read appended later, the spool's drain, the bench,
//! another job calling [`crate::db::append_audit`] — is chained, with no code path able to
//! forget. Appenders of one clinic are serialised by a transaction-scoped advisory lock
//! taken by the first record a transaction inserts; `regional-db` inserts a batch's records
//! after its last statement, just before COMMIT, so the lock covers only those inserts and
//! the commit.
//!
//! [`canonical`] here is an independent implementation of the SQL function
//! `audit_canonical`: the verifier does not trust the database's own code to recompute the
//! hashes it checks.
//!
//! # What it shows, and what it cannot
//! A record modified after the fact no longer matches its hash; a record removed leaves a
//! gap in `chain_seq` (and its successor no longer chains). The service's role cannot do
//! either (it may only INSERT and SELECT, see [`crate::grants`]); a superuser can, and the
//! chain is how it shows. What a chain alone cannot show: someone able to write the table
//! who rewrites a whole tail consistently (recomputing every hash after the change), or
//! simply deletes the newest records. Anchoring catches both: publish the head
//! ([`Report::head`], printed by `audit verify`) somewhere the database's administrators
//! cannot rewrite — a WORM bucket, another region, a signed timestamp (RFC 3161), the
//! operator's own log — and check it later with `audit verify --anchor SEQ:HASH`.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use telemed_shared::tenant::TenantSlug;

use crate::{db::quote_ident, error::Error};

/// The hash the first record chains from.
pub const GENESIS: [u8; 32] = [0; 32];

/// Records read per query while walking a chain.
const PAGE: i64 = 5_000;

/// Breaks listed at most in one [`Report`] (the walk goes on, counting).
pub const MAX_BREAKS: usize = 100;

/// One record, as the hash covers it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: i64,
    pub chain_seq: i64,
    pub event_id: uuid::Uuid,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub statement: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub patient: Option<uuid::Uuid>,
    pub outcome: String,
    pub edge: Option<String>,
    pub spool_id: Option<String>,
}

/// The canonical encoding of a record: each field as `<octet length>:<text>`, or `-` for
/// NULL, in the order of the SQL function `audit_canonical` (id, chain_seq, event_id, `at`
/// in microseconds since the Unix epoch, actor, action, statement, resource_type,
/// resource_id, patient, outcome, edge, spool_id). Length prefixes make it unambiguous:
/// no two records encode alike.
pub fn canonical(r: &Record) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut field = |value: Option<&str>| match value {
        Some(v) => {
            out.extend_from_slice(v.len().to_string().as_bytes());
            out.push(b':');
            out.extend_from_slice(v.as_bytes());
        }
        None => out.push(b'-'),
    };
    field(Some(&r.id.to_string()));
    field(Some(&r.chain_seq.to_string()));
    field(Some(&r.event_id.to_string()));
    field(Some(&r.at.timestamp_micros().to_string()));
    field(Some(&r.actor));
    field(Some(&r.action));
    field(Some(&r.statement));
    field(r.resource_type.as_deref());
    field(r.resource_id.as_deref());
    field(r.patient.map(|p| p.to_string()).as_deref());
    field(Some(&r.outcome));
    field(r.edge.as_deref());
    field(r.spool_id.as_deref());
    out
}

/// `sha256(prev || canonical(record))`.
pub fn chain_hash(prev: &[u8; 32], record: &Record) -> [u8; 32] {
    let mut h = hmac_sha256::Hash::new();
    h.update(prev);
    h.update(canonical(record));
    h.finalize()
}

/// Where a chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The record does not hash to its stored hash from its predecessor's: it was modified
    /// (or its predecessor's hash was, or the chain was rewritten from here).
    Modified {
        chain_seq: i64,
        event_id: uuid::Uuid,
    },
    /// Records `from..=to` are missing: removed. Their successor cannot be checked (its
    /// hash chains from a record that is gone); the walk resumes from it.
    Removed { from: i64, to: i64 },
    /// The anchor given names a record that is missing or has another hash: the chain was
    /// rewritten or cut since the anchor was taken.
    Anchor { chain_seq: i64 },
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Modified {
                chain_seq,
                event_id,
            } => write!(
                f,
                "record {chain_seq} (AuditEvent/{event_id}) does not match its hash: modified"
            ),
            Self::Removed { from, to } if from == to => {
                write!(f, "record {from} is missing: removed")
            }
            Self::Removed { from, to } => write!(f, "records {from} to {to} are missing: removed"),
            Self::Anchor { chain_seq } => write!(
                f,
                "record {chain_seq} no longer has the anchored hash: the chain was rewritten or cut"
            ),
        }
    }
}

/// The last record of a chain: what to anchor elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub chain_seq: i64,
    pub hash: [u8; 32],
}

impl Head {
    /// `SEQ:HEX`, as `audit verify` prints it and `--anchor` reads it.
    pub fn to_anchor(&self) -> String {
        format!("{}:{}", self.chain_seq, hex(&self.hash))
    }

    /// Parses `SEQ:HEX`.
    pub fn parse_anchor(s: &str) -> Option<Self> {
        let (seq, h) = s.trim().split_once(':')?;
        let chain_seq = seq.parse().ok().filter(|n: &i64| *n > 0)?;
        if h.len() != 64 {
            return None;
        }
        let mut hash = [0u8; 32];
        for (i, byte) in hash.iter_mut().enumerate() {
            *byte = u8::from_str_radix(h.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self { chain_seq, hash })
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Records walked.
    pub records: u64,
    /// The last record, if any.
    pub head: Option<Head>,
    /// The first [`MAX_BREAKS`] breaks, in chain order (then the anchor's, if any).
    pub breaks: Vec<Break>,
    /// All breaks, listed or not.
    pub total_breaks: u64,
}

impl Report {
    pub fn intact(&self) -> bool {
        self.total_breaks == 0
    }

    /// One line for the operator: intact or broken (naming the first break), and the head
    /// to anchor.
    pub fn summary(&self, slug: &TenantSlug) -> String {
        let head = self
            .head
            .map_or_else(|| "none (empty trail)".to_owned(), |h| h.to_anchor());
        match self.breaks.first() {
            None => format!(
                "audit trail of {slug}: intact, {} record(s); head {head}",
                self.records
            ),
            Some(first) => format!(
                "audit trail of {slug} is broken: {} break(s) over {} record(s), first: {first}; head {head}",
                self.total_breaks, self.records
            ),
        }
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Walks `slug`'s chain in order and reports where it does not hold; with `anchor`, also
/// checks that the anchored record is still there with the anchored hash. Reads only
/// (the chain may grow meanwhile: records appended after the walk began are not checked).
pub async fn verify(
    client: &impl GenericClient,
    slug: &TenantSlug,
    anchor: Option<Head>,
) -> Result<Report, Error> {
    let exists = client
        .query_opt(
            "SELECT 1 FROM pg_namespace WHERE nspname = $1",
            &[&slug.schema_name()],
        )
        .await?
        .is_some();
    if !exists {
        return Err(Error::Config(format!(
            "clinic {slug} has no schema in this database (is it homed in another region?)"
        )));
    }
    let table = format!("{}.audit_events", quote_ident(&slug.schema_name()));
    let page = client
        .prepare(&format!(
            "SELECT id, chain_seq, event_id, at, actor, action, statement, resource_type, \
             resource_id, patient, outcome, edge, spool_id, hash \
             FROM {table} WHERE chain_seq > $1 ORDER BY chain_seq LIMIT $2"
        ))
        .await?;
    let mut report = Report {
        records: 0,
        head: None,
        breaks: Vec::new(),
        total_breaks: 0,
    };
    let found = |report: &mut Report, b: Break| {
        report.total_breaks += 1;
        if report.breaks.len() < MAX_BREAKS {
            report.breaks.push(b);
        }
    };
    let mut prev = GENESIS;
    let mut expected = 1i64;
    let mut anchor_seen = false;
    loop {
        let rows = client.query(&page, &[&(expected - 1), &PAGE]).await?;
        let Some(last) = rows.last() else { break };
        let last_seq: i64 = last.try_get(1)?;
        for row in &rows {
            let record = Record {
                id: row.try_get(0)?,
                chain_seq: row.try_get(1)?,
                event_id: row.try_get(2)?,
                at: row.try_get(3)?,
                actor: row.try_get(4)?,
                action: row.try_get(5)?,
                statement: row.try_get(6)?,
                resource_type: row.try_get(7)?,
                resource_id: row.try_get(8)?,
                patient: row.try_get(9)?,
                outcome: row.try_get(10)?,
                edge: row.try_get(11)?,
                spool_id: row.try_get(12)?,
            };
            let stored: Vec<u8> = row.try_get(13)?;
            let stored: [u8; 32] = stored.as_slice().try_into().unwrap_or([0xff; 32]);
            report.records += 1;
            if record.chain_seq != expected {
                // Removed records: their successor chains from a hash that is gone.
                found(
                    &mut report,
                    Break::Removed {
                        from: expected,
                        to: record.chain_seq - 1,
                    },
                );
            } else if chain_hash(&prev, &record) != stored {
                found(
                    &mut report,
                    Break::Modified {
                        chain_seq: record.chain_seq,
                        event_id: record.event_id,
                    },
                );
            }
            if let Some(a) = anchor
                && a.chain_seq == record.chain_seq
            {
                anchor_seen = true;
                if a.hash != stored {
                    found(
                        &mut report,
                        Break::Anchor {
                            chain_seq: a.chain_seq,
                        },
                    );
                }
            }
            // The walk goes on from what is stored: one change is one break, not all after.
            prev = stored;
            expected = record.chain_seq + 1;
            report.head = Some(Head {
                chain_seq: record.chain_seq,
                hash: stored,
            });
        }
        if (rows.len() as i64) < PAGE || last_seq < expected - 1 {
            break;
        }
    }
    if let Some(a) = anchor
        && !anchor_seen
    {
        found(
            &mut report,
            Break::Anchor {
                chain_seq: a.chain_seq,
            },
        );
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            id: 7,
            chain_seq: 3,
            event_id: "5b0c1a2e-1111-4222-8333-444455556666".parse().unwrap(),
            at: DateTime::from_timestamp_micros(1_800_000_000_123_456).unwrap(),
            actor: "dr-é".into(),
            action: "read".into(),
            statement: "patient.read".into(),
            resource_type: Some("Patient".into()),
            resource_id: None,
            patient: None,
            outcome: "ok".into(),
            edge: Some("eu-west/CDG".into()),
            spool_id: None,
        }
    }

    #[test]
    fn the_encoding_is_length_prefixed_utf8_with_nulls_as_dashes() {
        assert_eq!(
            String::from_utf8(canonical(&record())).unwrap(),
            "1:71:336:5b0c1a2e-1111-4222-8333-44445555666616:1800000000123456\
             5:dr-é4:read12:patient.read7:Patient--2:ok11:eu-west/CDG-"
        );
        // A value cannot pass for a neighbour: moving text between fields changes the bytes.
        let mut shifted = record();
        shifted.actor = "dr-é4:read".into();
        shifted.action = String::new();
        assert_ne!(canonical(&shifted), canonical(&record()));
    }

    #[test]
    fn each_hash_depends_on_the_previous_one() {
        let r = record();
        let a = chain_hash(&GENESIS, &r);
        assert_ne!(a, chain_hash(&[1; 32], &r));
        let mut changed = r.clone();
        changed.outcome = "conflict".into();
        assert_ne!(a, chain_hash(&GENESIS, &changed));
    }

    #[test]
    fn anchors_round_trip_and_refuse_junk() {
        let h = Head {
            chain_seq: 42,
            hash: [0xab; 32],
        };
        assert_eq!(Head::parse_anchor(&h.to_anchor()), Some(h));
        for bad in ["", "42", "0:ab", "x:ab", &format!("42:{}", "g".repeat(64))] {
            assert_eq!(Head::parse_anchor(bad), None, "{bad}");
        }
    }
}
