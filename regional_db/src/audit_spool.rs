//! The audit spool: where the trail of a replica read goes while the primary is down.
//!
//! A read served by the replica has its audit events appended on the primary before the
//! answer ([`crate::db::append_deferred_audit`]). With the primary down, refusing the read
//! would make the replica useless exactly when it matters, and answering without a trail
//! would let health data leave unaudited. So the events are appended to a local file
//! (`AUDIT_SPOOL_DIR`), flushed to disk (`fsync`) before the answer, and moved into the
//! clinic's `audit_events` by [`drain_loop`] once the primary is back, with their original
//! time. Each event carries a random `spool_id` (unique in `audit_events`), so a drain that
//! is interrupted after its commit and repeated inserts nothing twice.
//!
//! The trade-off, stated: until drained, those events live on this instance's disk only;
//! losing that disk before the primary returns loses them. Without a spool directory a
//! replica read that cannot be audited is refused (503), as before.

use std::{
    fs,
    io::{BufRead, Write},
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use deadpool_postgres::Pool;
use serde::{Deserialize, Serialize};
use telemed_shared::tenant::TenantSlug;
use tokio_postgres::types::Type;

use crate::db::{self, AuditEntry};

/// The file events are appended to; drains rename it aside first.
const CURRENT: &str = "audit.spool";
/// Prefix of the files a drain has taken (`draining-<millis>.spool`).
const DRAINING: &str = "draining-";
/// How often [`drain_loop`] looks for spooled events.
pub const DRAIN_EVERY: Duration = Duration::from_secs(1);

/// One audit event as spooled: what `audit_events` needs, plus its clinic and identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Spooled {
    spool_id: String,
    /// Milliseconds since the Unix epoch, when the read was served.
    at_ms: u64,
    tenant: TenantSlug,
    actor: String,
    action: String,
    statement: String,
    resource_type: String,
    resource_id: Option<String>,
    /// Where the edge that asked runs (absent from files spooled before it was recorded).
    #[serde(default)]
    edge: Option<String>,
    /// `ok`, or a refusal's wire code (absent from files spooled before it was recorded:
    /// only served reads were spooled then).
    #[serde(default = "ok")]
    outcome: String,
}

fn ok() -> String {
    "ok".to_owned()
}

/// Why spooling or draining failed.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("audit spool {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("audit spool {path}, line {line}: not a spooled event ({source})")]
    Corrupt {
        path: PathBuf,
        line: usize,
        source: serde_json::Error,
    },
    #[error("draining the audit spool: {}", crate::error::describe(.0))]
    Postgres(#[from] tokio_postgres::Error),
    #[error("draining the audit spool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
}

/// A spool directory, owned by one `regional-db` instance. Appends and drains take its lock.
pub struct AuditSpool {
    dir: PathBuf,
    lock: tokio::sync::Mutex<()>,
}

impl AuditSpool {
    /// Opens (creating) the spool directory.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, SpoolError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|source| SpoolError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Self {
            dir,
            lock: tokio::sync::Mutex::new(()),
        })
    }

    /// Appends the events of one read and flushes them to disk before returning: when this
    /// succeeds, the read may be answered.
    pub async fn append(
        &self,
        tenant: &TenantSlug,
        actor: &str,
        entries: &[AuditEntry],
    ) -> Result<usize, SpoolError> {
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let mut lines = Vec::new();
        for entry in entries {
            for id in &entry.ids {
                let event = Spooled {
                    spool_id: random_id(),
                    at_ms,
                    tenant: tenant.clone(),
                    actor: actor.to_owned(),
                    action: entry.action.to_owned(),
                    statement: entry.statement.to_owned(),
                    resource_type: entry.resource_type.to_owned(),
                    resource_id: id.clone(),
                    edge: entry.edge.clone(),
                    outcome: entry.outcome.label(),
                };
                let mut line = serde_json::to_vec(&event).expect("spooled events serialise");
                line.push(b'\n');
                lines.extend(line);
            }
        }
        let count = entries.iter().map(|e| e.ids.len()).sum();
        let path = self.dir.join(CURRENT);
        let _guard = self.lock.lock().await;
        tokio::task::spawn_blocking(move || {
            let io = |source| SpoolError::Io {
                path: path.clone(),
                source,
            };
            let mut file = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(io)?;
            file.write_all(&lines).map_err(io)?;
            file.sync_data().map_err(io)
        })
        .await
        .map_err(|e| SpoolError::Io {
            path: self.dir.clone(),
            source: std::io::Error::other(e),
        })??;
        Ok(count)
    }

    /// Events waiting to be drained (all files), for the `regional_audit_spooled_events` gauge.
    pub fn pending(&self) -> Result<usize, SpoolError> {
        let mut n = 0;
        for path in self.files()? {
            let file = fs::File::open(&path).map_err(|source| SpoolError::Io {
                path: path.clone(),
                source,
            })?;
            n += std::io::BufReader::new(file).lines().count();
        }
        Ok(n)
    }

    /// Moves every spooled event into its clinic's `audit_events` on the primary, one
    /// transaction per file; a file is deleted only after its transaction committed.
    /// Returns how many events were inserted (repeats of an interrupted drain are not).
    pub async fn drain(&self, primary: &Pool) -> Result<u64, SpoolError> {
        let files = {
            let _guard = self.lock.lock().await;
            let current = self.dir.join(CURRENT);
            if current.exists() {
                let millis = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis());
                let taken = self.dir.join(format!("{DRAINING}{millis}.spool"));
                fs::rename(&current, &taken).map_err(|source| SpoolError::Io {
                    path: current.clone(),
                    source,
                })?;
            }
            self.files()?
        };
        let mut inserted = 0;
        for path in files.iter().filter(|p| is_draining(p)) {
            let mut events = read_events(path)?;
            // Clinic by clinic (stable: each clinic's events keep their order): each
            // clinic's chain lock is then taken in one order by every draining instance,
            // which cannot deadlock on them.
            events.sort_by(|a, b| a.tenant.as_str().cmp(b.tenant.as_str()));
            let mut client = primary.get().await?;
            let tx = client.transaction().await?;
            for e in &events {
                // Pinned first: the statement names the clinic's table (and is re-parsed
                // by Postgres whenever the search_path differs from its last use).
                db::pin_schema(&tx, &e.tenant).await?;
                let insert = tx
                    .prepare_typed_cached(
                        "INSERT INTO audit_events \
                         (at, actor, action, statement, resource_type, resource_id, spool_id, \
                          edge, outcome) \
                         VALUES (to_timestamp($1::float8 / 1000), $2, $3, $4, $5, $6, $7, $8, $9) \
                         ON CONFLICT (spool_id) WHERE spool_id IS NOT NULL DO NOTHING",
                        &[
                            Type::FLOAT8,
                            Type::TEXT,
                            Type::TEXT,
                            Type::TEXT,
                            Type::TEXT,
                            Type::TEXT,
                            Type::TEXT,
                            Type::TEXT,
                            Type::TEXT,
                        ],
                    )
                    .await?;
                inserted += tx
                    .execute(
                        &insert,
                        &[
                            &(e.at_ms as f64),
                            &e.actor,
                            &e.action,
                            &e.statement,
                            &e.resource_type,
                            &e.resource_id,
                            &e.spool_id,
                            &e.edge,
                            &e.outcome,
                        ],
                    )
                    .await?;
            }
            tx.commit().await?;
            fs::remove_file(path).map_err(|source| SpoolError::Io {
                path: path.clone(),
                source,
            })?;
        }
        Ok(inserted)
    }

    /// The spool's files: the current one and those taken by drains, oldest first.
    fn files(&self) -> Result<Vec<PathBuf>, SpoolError> {
        let io = |source| SpoolError::Io {
            path: self.dir.clone(),
            source,
        };
        let mut files: Vec<PathBuf> = fs::read_dir(&self.dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_draining(p) || p.file_name().is_some_and(|n| n == CURRENT))
            .collect();
        // `draining-<millis>` sorts by time within equal widths; the current file goes last.
        files.sort_by_key(|p| (!is_draining(p), p.file_name().map(|n| n.len()), p.clone()));
        Ok(files)
    }
}

fn is_draining(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(DRAINING) && n.ends_with(".spool"))
}

fn read_events(path: &Path) -> Result<Vec<Spooled>, SpoolError> {
    let text = fs::read_to_string(path).map_err(|source| SpoolError::Io {
        path: path.to_owned(),
        source,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|source| SpoolError::Corrupt {
                path: path.to_owned(),
                line: i + 1,
                source,
            })
        })
        .collect()
}

/// 128 random bits, hex: unique enough to deduplicate repeated drains.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Drains the spool into the primary every [`DRAIN_EVERY`] while there is something to
/// drain, reporting the pending count. A primary still down is not news (it is logged once
/// per outage); a corrupt file is an error for the operator, and stays in place.
pub async fn drain_loop(spool: &AuditSpool, primary: Pool, on_pending: impl Fn(usize)) {
    let mut tick = tokio::time::interval(DRAIN_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tick.tick().await;
        match spool.pending() {
            Ok(0) => {
                on_pending(0);
                continue;
            }
            Ok(n) => on_pending(n),
            Err(e) => tracing::error!(error = %e, "reading the audit spool"),
        }
        match spool.drain(&primary).await {
            Ok(n) => {
                failing = false;
                tracing::info!(events = n, "audit spool drained into the primary");
                on_pending(spool.pending().unwrap_or(0));
            }
            Err(e @ SpoolError::Corrupt { .. }) => tracing::error!(error = %e, "audit spool"),
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "audit spool not drained yet; retrying");
                }
                failing = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ids: &[Option<&str>]) -> AuditEntry {
        AuditEntry::new(
            "read",
            "patient_get",
            "Patient",
            ids.iter().map(|i| i.map(str::to_owned)).collect(),
        )
        .with_edge(Some("eu-west/CDG"))
    }

    #[tokio::test]
    async fn appended_events_are_durable_lines_with_unique_ids() {
        let dir = std::env::temp_dir().join(format!("audit-spool-test-{}", random_id()));
        let spool = AuditSpool::open(&dir).unwrap();
        let slug: TenantSlug = "hopital-paris".parse().unwrap();
        let n = spool
            .append(
                &slug,
                "dr-house",
                &[entry(&[Some("p1"), Some("p2")]), entry(&[None])],
            )
            .await
            .unwrap();
        assert_eq!(n, 3);
        assert_eq!(spool.pending().unwrap(), 3);
        let events = read_events(&dir.join(CURRENT)).unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].tenant, slug);
        assert_eq!(events[0].actor, "dr-house");
        assert_eq!(events[1].resource_id.as_deref(), Some("p2"));
        assert_eq!(events[2].resource_id, None);
        assert_eq!(events[0].edge.as_deref(), Some("eu-west/CDG"));
        assert_eq!(events[0].outcome, "ok");
        assert_ne!(events[0].spool_id, events[1].spool_id);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_corrupt_line_is_reported_with_its_place() {
        let dir = std::env::temp_dir().join(format!("audit-spool-test-{}", random_id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("draining-1.spool");
        fs::write(&path, "{not json}\n").unwrap();
        let err = read_events(&path).unwrap_err();
        assert!(matches!(err, SpoolError::Corrupt { line: 1, .. }), "{err}");
        fs::remove_dir_all(dir).unwrap();
    }
}
