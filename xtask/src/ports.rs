//! The fixed ports of the local stacks (`up`, `test`, `bench`): checked before anything
//! starts, so that a conflict is one clear line instead of a server's backtrace.
//!
//! Two rules, both checked by [`check`]:
//! - A fixed port never lies in the kernel's ephemeral range
//!   (`/proc/sys/net/ipv4/ip_local_port_range`, 32768–60999 by default), unless the range's
//!   owner reserved it (`ip_local_reserved_ports`): that is where every outgoing connection
//!   takes its local port, so after a benchmark's 10,000 connections any port there may
//!   be held by a connection for minutes, and a server started on it fails to bind.
//! - A fixed port is free when the stack starts, or held by the very server the stack is
//!   about to adopt (a Postgres cluster of an earlier run on the same data directory).

use std::{fs, net::TcpListener, ops::RangeInclusive};

use anyhow::{Result, bail};

/// A port a stack will listen on, and what for (for the error message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub port: u16,
    pub what: String,
}

impl Claim {
    pub fn new(port: u16, what: impl Into<String>) -> Self {
        Self {
            port,
            what: what.into(),
        }
    }
}

/// Checks every claim: distinct, outside the ephemeral range, free. The error is one line
/// naming the port, what it is for, and what holds it.
pub fn check(claims: &[Claim]) -> Result<()> {
    outside_ephemeral_range(claims)?;
    free(claims)
}

/// The claims are distinct and none lies in the kernel's ephemeral range.
fn outside_ephemeral_range(claims: &[Claim]) -> Result<()> {
    for (i, c) in claims.iter().enumerate() {
        if let Some(other) = claims[..i].iter().find(|o| o.port == c.port) {
            bail!(
                "port {} is claimed twice: by {} and by {}",
                c.port,
                other.what,
                c.what
            );
        }
    }
    if let Some(range) = ephemeral_range() {
        let reserved = reserved_ports();
        if let Some(c) = claims
            .iter()
            .find(|c| range.contains(&c.port) && !reserved.iter().any(|r| r.contains(&c.port)))
        {
            bail!(
                "port {} ({}) lies in the kernel's ephemeral port range {}-{}, where any \
                 outgoing connection may hold it: choose a port outside it",
                c.port,
                c.what,
                range.start(),
                range.end()
            );
        }
    }
    Ok(())
}

/// Every claimed port can be listened on now.
fn free(claims: &[Claim]) -> Result<()> {
    for c in claims {
        // std sets SO_REUSEADDR on Unix, as Postgres and the other servers do: a closing
        // connection (TIME_WAIT) on the port does not count as taken, a listener does.
        if let Err(e) = TcpListener::bind(("127.0.0.1", c.port)) {
            bail!(
                "port {} ({}) is not free: {} ({e})",
                c.port,
                c.what,
                holder(c.port)
            );
        }
    }
    Ok(())
}

/// The kernel's ephemeral port range, where it reads one.
pub fn ephemeral_range() -> Option<RangeInclusive<u16>> {
    let text = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut bounds = text.split_whitespace().map(|n| n.parse::<u16>().ok());
    Some(bounds.next()??..=bounds.next()??)
}

/// `ip_local_reserved_ports`: `8080,9000-9100` (ports the kernel never hands out).
fn reserved_ports() -> Vec<RangeInclusive<u16>> {
    parse_port_list(
        &fs::read_to_string("/proc/sys/net/ipv4/ip_local_reserved_ports").unwrap_or_default(),
    )
}

fn parse_port_list(text: &str) -> Vec<RangeInclusive<u16>> {
    text.trim()
        .split(',')
        .filter_map(|part| {
            let (a, b) = part.split_once('-').unwrap_or((part, part));
            Some(a.trim().parse().ok()?..=b.trim().parse().ok()?)
        })
        .collect()
}

/// Who holds `port` on this machine, as well as `/proc` tells: the process with a socket
/// bound to it (its pid and command line), else the socket's state.
pub fn holder(port: u16) -> String {
    let sockets = sockets_on(port);
    let Some(socket) = sockets
        .iter()
        .find(|s| s.state == LISTEN)
        .or_else(|| sockets.first())
    else {
        return "held by a socket this user cannot see".into();
    };
    let role = if socket.state == LISTEN {
        "a server listening"
    } else {
        "a connection"
    };
    match process_with_socket(socket.inode) {
        Some((pid, command)) => format!("{role} of pid {pid} ({command})"),
        None if socket.inode == 0 => format!("{role} being closed (no process owns it any more)"),
        None => format!("{role} of another user's process"),
    }
}

/// TCP state `0A` in `/proc/net/tcp`.
const LISTEN: u8 = 0x0A;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Socket {
    state: u8,
    inode: u64,
}

/// Sockets whose local port is `port`, from `/proc/net/tcp` and `/proc/net/tcp6`.
fn sockets_on(port: u16) -> Vec<Socket> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .flat_map(|table| parse_tcp_table(&fs::read_to_string(table).unwrap_or_default(), port))
        .collect()
}

/// Rows of a `/proc/net/tcp` table bound to `port`:
/// `sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …`, addresses
/// as `HEXIP:HEXPORT`.
fn parse_tcp_table(text: &str, port: u16) -> Vec<Socket> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields.get(1)?.rsplit_once(':')?.1;
            (u16::from_str_radix(local_port, 16).ok()? == port).then_some(())?;
            Some(Socket {
                state: u8::from_str_radix(fields.get(3)?, 16).ok()?,
                inode: fields.get(9)?.parse().ok()?,
            })
        })
        .collect()
}

/// The process that has socket `inode` open, and its command line.
fn process_with_socket(inode: u64) -> Option<(u32, String)> {
    if inode == 0 {
        return None;
    }
    let target = format!("socket:[{inode}]");
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let owns = fds
            .flatten()
            .any(|fd| fs::read_link(fd.path()).is_ok_and(|l| l.to_string_lossy() == target));
        if owns {
            let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let command = cmdline
                .split(|&b| b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ");
            return Some((pid, command.chars().take(120).collect()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_tables_are_read_by_local_port() {
        // Two rows of a real /proc/net/tcp: a listener on 127.0.0.1:7100 and a connection
        // from 127.0.0.1:54322 (TIME_WAIT, no inode).
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
           0: 0100007F:1BBC 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n\
           1: 0100007F:D432 0100007F:1BBC 06 00000000:00000000 03:00000F2B 00000000     0        0 0 3 0000000000000000\n";
        assert_eq!(
            parse_tcp_table(table, 7100),
            [Socket {
                state: LISTEN,
                inode: 4242
            }]
        );
        assert_eq!(
            parse_tcp_table(table, 54322),
            [Socket {
                state: 0x06,
                inode: 0
            }]
        );
        assert!(parse_tcp_table(table, 8787).is_empty());
    }

    #[test]
    fn reserved_port_lists() {
        assert_eq!(
            parse_port_list("8080,9000-9100\n"),
            [8080..=8080, 9000..=9100]
        );
        assert!(parse_port_list("\n").is_empty());
    }

    #[test]
    fn a_taken_port_is_named_with_its_holder() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let err = free(&[Claim::new(port, "eu-west Postgres")])
            .unwrap_err()
            .to_string();
        let holder = format!("a server listening of pid {} (", std::process::id());
        assert!(
            err.starts_with(&format!(
                "port {port} (eu-west Postgres) is not free: {holder}"
            )),
            "{err}"
        );
        assert!(!err.contains('\n'), "one line: {err}");
        drop(listener);
        assert!(free(&[Claim::new(port, "eu-west Postgres")]).is_ok());
        // The kernel picked that port from its ephemeral range: `check` refuses it first.
        if ephemeral_range().is_some_and(|r| r.contains(&port)) {
            let err = check(&[Claim::new(port, "eu-west Postgres")]).unwrap_err();
            assert!(err.to_string().contains("ephemeral port range"), "{err}");
        }
    }

    #[test]
    fn a_port_claimed_twice_is_refused() {
        let err = check(&[Claim::new(7100, "a"), Claim::new(7100, "b")])
            .unwrap_err()
            .to_string();
        assert_eq!(err, "port 7100 is claimed twice: by a and by b");
    }

    #[test]
    fn every_stack_port_is_outside_the_ephemeral_range() {
        // The default range where the kernel says none: what a stock Linux uses.
        let range = ephemeral_range().unwrap_or(32768..=60999);
        for spec in [crate::stack::DEV, crate::stack::TEST, crate::stack::BENCH] {
            for claim in crate::stack::fixed_ports(&spec) {
                assert!(
                    !range.contains(&claim.port),
                    "{} stack: {} on {}",
                    spec.name,
                    claim.what,
                    claim.port
                );
            }
        }
    }
}
