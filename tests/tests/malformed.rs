//! Malformed requests, sent as raw bytes to both edges: what an HTTP library would refuse
//! to send (bad `Host` values, two `Host` lines, absolute-form targets, oversized heads).
//!
//! Our code answers every malformed authority it is handed with a 400 — a page in the
//! visitor's language, or an `OperationOutcome` naming `Host` under `/v1` — and never a 5xx.
//! What each runtime does before our code runs is listed here case by case, not hidden:
//! when a runtime changes, this test says so (and the README's failure table must follow).

use serde_json::Value;
use telemed_e2e::{EDGES, Edge, RawResponse, raw_request};

/// What a request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// Our 400: a localized page, or an `OperationOutcome` at `Host` on the API.
    Refused,
    /// Our code served the clinic the request names (2xx).
    Served,
    /// The runtime answers this status itself; our code never sees the request.
    Runtime(u16, &'static str),
    /// Our code served the clinic the request names, because the runtime hid what is wrong
    /// (a wasi:http host keeps `Host` from the component, and fills the authority itself).
    ServedBlind(&'static str),
}

use Answer::{Refused, Runtime, Served, ServedBlind};

/// workerd builds the request URL from `Host` and throws (kj/compat/url.c++ "invalid
/// hostname when stringifying URL") before the worker runs; `wrangler dev` answers 500.
const WORKERD_BAD_HOST: Answer = Runtime(500, "workerd: invalid hostname in URL");
/// workerd refuses every absolute-form target (kj/compat/url.c++ "invalid URL"), valid or not.
const WORKERD_ABSOLUTE_FORM: Answer = Runtime(500, "workerd: absolute-form target");
/// workerd answers 400 itself to a request without a usable `Host`.
const WORKERD_NO_HOST: Answer = Runtime(400, "workerd: no Host");
/// wasmtime-wasi-http 48 fills the request's authority from `Host` with `to_str()` and
/// fails the request (wasmtime serve answers 500) when it is not visible ASCII or absent,
/// before the component is instantiated.
const WASMTIME_NON_ASCII_HOST: Answer = Runtime(500, "wasmtime serve: non-ASCII Host");
const WASMTIME_NO_HOST: Answer = Runtime(500, "wasmtime serve: no authority");
/// wasmtime serve's HTTP parser (hyper) refuses a target the `http` crate cannot parse.
const HYPER_BAD_TARGET: Answer = Runtime(400, "hyper: invalid request target");
/// wasmtime-wasi-http strips `Host` (a forbidden header) from what the component sees, and
/// takes the authority from an absolute-form target, else from the first `Host` line.
const WASMTIME_HIDES_HOST: Answer = ServedBlind("wasmtime serve keeps Host from the component");

/// (name, request head with `{port}` for the edge's port, on Workers, on Spin).
const CASES: &[(&str, &str, Answer, Answer)] = &[
    (
        "a valid Host",
        "GET {path} HTTP/1.1\r\nHost: hopital-paris.localhost:{port}",
        Served,
        Served,
    ),
    (
        "a percent-encoded label",
        "GET {path} HTTP/1.1\r\nHost: hopital%2Dparis.localhost:{port}",
        WORKERD_BAD_HOST,
        Refused,
    ),
    (
        "raw UTF-8",
        "GET {path} HTTP/1.1\r\nHost: hôpital-paris.localhost:{port}",
        WORKERD_BAD_HOST,
        WASMTIME_NON_ASCII_HOST,
    ),
    (
        "userinfo",
        "GET {path} HTTP/1.1\r\nHost: evil.com@hopital-paris.localhost:{port}",
        WORKERD_BAD_HOST,
        Refused,
    ),
    (
        "a non-numeric port",
        "GET {path} HTTP/1.1\r\nHost: hopital-paris.localhost:abc",
        WORKERD_BAD_HOST,
        Refused,
    ),
    (
        "a port over 65535",
        "GET {path} HTTP/1.1\r\nHost: hopital-paris.localhost:99999",
        WORKERD_BAD_HOST,
        Refused,
    ),
    (
        "two ports",
        "GET {path} HTTP/1.1\r\nHost: hopital-paris.localhost:{port}:{port}",
        WORKERD_BAD_HOST,
        Refused,
    ),
    (
        "a space",
        "GET {path} HTTP/1.1\r\nHost: hopital paris.localhost",
        WORKERD_BAD_HOST,
        Refused,
    ),
    (
        "an unclosed IPv6 literal",
        "GET {path} HTTP/1.1\r\nHost: [::1",
        WORKERD_BAD_HOST,
        Refused,
    ),
    (
        "an empty Host",
        "GET {path} HTTP/1.1\r\nHost: ",
        WORKERD_NO_HOST,
        Refused,
    ),
    (
        "no Host",
        "GET {path} HTTP/1.1\r\nX-Nothing: here",
        WORKERD_NO_HOST,
        WASMTIME_NO_HOST,
    ),
    (
        "two Host lines",
        "GET {path} HTTP/1.1\r\nHost: hopital-paris.localhost:{port}\r\nHost: clinique-dakar.localhost:{port}",
        WORKERD_BAD_HOST,
        WASMTIME_HIDES_HOST,
    ),
    (
        "an absolute-form target",
        "GET http://hopital-paris.localhost:{port}{path} HTTP/1.1\r\nHost: hopital-paris.localhost:{port}",
        WORKERD_ABSOLUTE_FORM,
        Served,
    ),
    (
        "an absolute-form target with userinfo",
        "GET http://evil@hopital-paris.localhost:{port}{path} HTTP/1.1\r\nHost: hopital-paris.localhost:{port}",
        WORKERD_ABSOLUTE_FORM,
        Refused,
    ),
    (
        "an absolute-form target with a percent-encoded label",
        "GET http://hopital%2Dparis.localhost:{port}{path} HTTP/1.1\r\nHost: hopital-paris.localhost:{port}",
        WORKERD_ABSOLUTE_FORM,
        HYPER_BAD_TARGET,
    ),
    (
        "an absolute-form target with an invalid Host line",
        "GET http://hopital-paris.localhost:{port}{path} HTTP/1.1\r\nHost: evil@x",
        WORKERD_ABSOLUTE_FORM,
        WASMTIME_HIDES_HOST,
    ),
];

fn head(template: &str, edge: Edge, path: &str, extra: &str) -> Vec<u8> {
    let port = edge.base().rsplit(':').next().expect("port");
    let mut head = template.replace("{port}", port).replace("{path}", path);
    head.push_str(extra);
    head.into_bytes()
}

/// Checks `r` is `want`, for a page request (`Accept-Language: es`) or an API one.
fn check(r: &RawResponse, want: Answer, api: bool, what: &str) {
    match want {
        Runtime(status, _) => {
            assert_eq!(r.status, Some(status), "{what}: {r:?}");
            // Every answer of the core carries `Server-Timing`.
            assert!(
                !r.headers.contains_key("server-timing"),
                "{what}: our code answered: {r:?}"
            );
        }
        Served | ServedBlind(_) => {
            let status = r.status.unwrap_or(0);
            // The API without a token: 401 from our code is how it serves an anonymous call.
            let served = if api { status == 401 } else { status == 200 };
            assert!(served, "{what}: {status} {}", r.text());
        }
        Refused if api => {
            assert_eq!(r.status, Some(400), "{what}: {}", r.text());
            assert!(
                r.headers["content-type"].starts_with("application/fhir+json"),
                "{what}: {r:?}"
            );
            let body: Value = serde_json::from_slice(&r.body).expect("an OperationOutcome");
            assert_eq!(body["resourceType"], "OperationOutcome", "{what}");
            assert_eq!(body["issue"][0]["expression"][0], "Host", "{what}: {body}");
        }
        Refused => {
            assert_eq!(r.status, Some(400), "{what}: {}", r.text());
            assert!(r.headers["content-type"].starts_with("text/html"), "{what}");
            assert_eq!(
                r.headers["content-language"], "es",
                "{what}: in the visitor's language"
            );
            assert!(r.text().contains(r#"<html lang="es""#), "{what}");
        }
    }
}

#[test]
fn malformed_authorities_are_refused_by_our_code_or_by_the_runtime_as_listed() {
    for &(name, template, on_workers, on_spin) in CASES {
        for edge in EDGES {
            let want = match edge {
                Edge::Workers => on_workers,
                Edge::Spin => on_spin,
            };
            for (path, api) in [("/", false), ("/v1/patients", true)] {
                let r = raw_request(edge, &head(template, edge, path, "\r\nAccept-Language: es"));
                check(&r, want, api, &format!("{edge:?} {name} {path}"));
            }
        }
    }
}

/// Heads far larger than any browser sends: the runtime refuses them (a 4xx) or our code
/// serves them; nothing answers 5xx.
#[test]
fn oversized_heads_get_no_5xx() {
    let big_value = format!("\r\nX-Big: {}", "a".repeat(100_000));
    let many: String = (0..500).map(|i| format!("\r\nX-Header-{i}: v")).collect();
    let long_language = format!("\r\nAccept-Language: {}", "en-GB;q=0.5, ".repeat(2_000));
    for (what, extra) in [
        ("a 100 kB header", big_value.as_str()),
        ("500 headers", many.as_str()),
        ("a 26 kB Accept-Language", long_language.as_str()),
    ] {
        for edge in EDGES {
            let template = "GET / HTTP/1.1\r\nHost: hopital-paris.localhost:{port}";
            let r = raw_request(edge, &head(template, edge, "/", extra));
            let status = r.status.unwrap_or(0);
            assert!(
                (200..500).contains(&status),
                "{edge:?} {what}: {status} {}",
                r.text()
            );
        }
    }
}
