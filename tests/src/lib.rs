//! The harness of the end-to-end tests: the stack started by `cargo xtask test` (its
//! `stack.json` is named by `TELEMED_STACK`), HTTP helpers that address a clinic by Host
//! on either edge, fresh clinics per test, tokens, and the regions' call counters.
#![forbid(unsafe_code)]

pub mod apps;

use std::{
    collections::HashMap,
    sync::OnceLock,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use reqwest::blocking::{Client, Response};
use xtask::stack::StackInfo;

/// The two edge runtimes, which must answer alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// workers-rs in workerd (`wrangler dev`).
    Workers,
    /// spin-sdk component in `wasmtime serve`.
    Spin,
}

pub const EDGES: [Edge; 2] = [Edge::Workers, Edge::Spin];

/// The running stack.
pub fn stack() -> &'static StackInfo {
    static STACK: OnceLock<StackInfo> = OnceLock::new();
    STACK.get_or_init(|| {
        let path = std::env::var("TELEMED_STACK").expect(
            "TELEMED_STACK is not set: run the end-to-end tests through `cargo xtask test`",
        );
        StackInfo::load(path.as_ref()).expect("reading the stack description")
    })
}

fn client() -> &'static Client {
    static C: OnceLock<Client> = OnceLock::new();
    C.get_or_init(|| {
        Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client")
    })
}

impl Edge {
    pub fn base(self) -> &'static str {
        match self {
            Edge::Workers => &stack().workers_url,
            Edge::Spin => &stack().spin_url,
        }
    }

    fn port(self) -> &'static str {
        self.base().rsplit(':').next().expect("port")
    }

    /// The Host a browser would send for `<slug>.localhost` on this edge.
    pub fn host_for(self, slug: &str) -> String {
        format!("{slug}.localhost:{}", self.port())
    }

    /// Sends a request to this edge with `host` as Host (the URL stays 127.0.0.1: the
    /// runtimes rebuild the URL from Host, as they do in production).
    pub fn request(
        self,
        method: &str,
        host: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Response {
        let mut r = client()
            .request(
                method.parse().expect("method"),
                format!("{}{path}", self.base()),
            )
            .header("host", host);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        if let Some(b) = body {
            r = r.body(b.to_owned());
        }
        r.send()
            .unwrap_or_else(|e| panic!("{self:?} {method} {host}{path}: {e}"))
    }

    pub fn get(self, host: &str, path: &str, headers: &[(&str, &str)]) -> Response {
        self.request("GET", host, path, headers, None)
    }
}

/// A fresh clinic in `country`, so a test never depends on another's data (nor on a warm
/// edge cache). Returns its slug.
pub fn new_clinic(prefix: &str, name: &str, country: &str) -> String {
    let mut r = [0u8; 4];
    getrandom::fill(&mut r).expect("randomness");
    let slug = format!("{prefix}-{:08x}", u32::from_le_bytes(r));
    let out = stack()
        .create_tenant(&slug, name, country)
        .expect("running regional-db tenant create");
    assert!(
        out.status.success(),
        "creating {slug}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    slug
}

/// An API token for `tenant` signed with the stack's key.
pub fn token(tenant: &str, scope: &str) -> String {
    token_at(tenant, scope, now_secs(), 600)
}

pub fn token_at(tenant: &str, scope: &str, issued_at: u64, ttl: u64) -> String {
    let keys = stack().keys().expect("stack keys");
    keys.api_signing_key()
        .expect("api key")
        .sign_api(
            tenant.parse().expect("slug"),
            "e2e-tests",
            scope,
            issued_at,
            ttl,
        )
        .expect("signing")
}

/// A session cookie (`session=<token>`) for an account of clinic `slug` in `country`,
/// signed with the stack's session key as the edges would at sign-in, opened at
/// `issued_at`: how a test that is not about sign-in gets a signed-in person.
pub fn session_cookie(
    slug: &str,
    country: &str,
    role: telemed_shared::accounts::Role,
    name: &str,
    resource: Option<&str>,
    issued_at: u64,
) -> String {
    use telemed_shared::{
        accounts::Role,
        web::session::{COOKIE, Session, SessionKeys},
    };
    let keys = stack().keys().expect("stack keys");
    let region = telemed_shared::geo::RegionMap::embedded()
        .home_for_country(&country.parse().expect("a country code"))
        .id
        .clone();
    let mut account = [0u8; 16];
    getrandom::fill(&mut account).expect("randomness");
    let session = Session {
        tenant: slug.parse().expect("slug"),
        region,
        account: uuid_of(account),
        role,
        name: name.to_owned(),
        patient: (role == Role::Patient).then(|| resource.unwrap_or_default().to_owned()),
        practitioner: (role == Role::Practitioner).then(|| resource.unwrap_or_default().to_owned()),
        csrf: "e2e-csrf-token-of-this-session".to_owned(),
    };
    let token = SessionKeys::from_base64_list(&keys.session)
        .expect("the stack's session key")
        .sign(&session, issued_at)
        .expect("signing a session");
    format!("{COOKIE}={token}")
}

/// A UUID's text from 16 random bytes (version 4 bits set).
fn uuid_of(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// The edge→region calls every region has received so far: batches sent by an edge and
/// directory look-ups (batches forwarded between regions are not edge calls).
pub fn edge_calls_received() -> u64 {
    stack()
        .regions
        .iter()
        .map(|r| {
            region_metric(
                &r.id,
                "regional_batch_requests_total",
                Some(("origin", "edge")),
            ) + region_metric(&r.id, "regional_directory_requests_total", None)
        })
        .sum()
}

/// A counter summed over every `regional-db` instance of `region`.
pub fn region_metric(region: &str, name: &str, label: Option<(&str, &str)>) -> u64 {
    let r = stack().region(region).expect("a region of the stack");
    r.urls
        .iter()
        .map(|url| {
            let text = client()
                .get(format!("{url}/metrics"))
                .send()
                .and_then(|r| r.text())
                .expect("metrics");
            metric_sum(&text, name, label)
        })
        .sum()
}

/// Sums a Prometheus counter's samples, optionally only those with `label`.
pub fn metric_sum(text: &str, name: &str, label: Option<(&str, &str)>) -> u64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| label.is_none_or(|(k, v)| l.contains(&format!("{k}=\"{v}\""))))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Response headers as a map of lowercase name → value, for comparisons.
pub fn headers(r: &Response) -> HashMap<String, String> {
    r.headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect()
}

/// Runs `sql` with `psql` on `url` (a stack database URL, possibly naming several servers)
/// and returns its unaligned output, trimmed; panics with psql's message on failure.
pub fn psql(url: &str, sql: &str) -> String {
    let psql = std::path::Path::new(xtask::tools::POSTGRES_BIN_DIR).join("psql");
    let out = std::process::Command::new(psql)
        .args([url, "-X", "-q", "-t", "-A", "-c", sql])
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// `POST /v1/patients` of [`patient_body`]`(family)` to clinic `slug` on `edge`, with
/// `auth` as its `Authorization`.
pub fn post_patient(edge: Edge, slug: &str, auth: &str, family: &str) -> Response {
    edge.request(
        "POST",
        &edge.host_for(slug),
        "/v1/patients",
        &[
            ("authorization", auth),
            ("content-type", "application/fhir+json"),
        ],
        Some(&patient_body(family)),
    )
}

/// A valid FHIR Patient for any country's policy, with `family` as its family name.
pub fn patient_body(family: &str) -> String {
    serde_json::json!({"resourceType": "Patient", "name": [{"family": family, "given": ["Awa"]}],
           "gender": "female", "birthDate": "1990-05-17"})
    .to_string()
}

/// The schema of clinic `slug` in its home database.
pub fn schema_of(slug: &str) -> String {
    format!("tenant_{}", slug.replace('-', "_"))
}

/// The built Workers edge inside Miniflare (workerd), configured like the stack's edges (plus
/// `extra` variables), where each request carries its own `request.cf` — which `wrangler dev`
/// cannot vary — and which keeps one edge cache for its whole life. Driven over a line
/// protocol (`tests/miniflare/dispatch.mjs`); stopped when dropped.
pub struct Miniflare {
    child: std::process::Child,
    /// Closing it ends the script, which then disposes of its workerd.
    stdin: Option<std::process::ChildStdin>,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl Miniflare {
    pub fn start(extra: &[(&str, &str)]) -> Self {
        let mut child = xtask::miniflare::spawn(
            stack(),
            "dispatch.mjs",
            extra,
            std::process::Stdio::inherit(),
        )
        .expect("starting Miniflare");
        let stdin = child.stdin.take();
        let stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut mf = Self {
            child,
            stdin,
            stdout,
        };
        assert_eq!(mf.read_line(), serde_json::json!("ready"));
        mf
    }

    /// Sends `{url, headers, cf}`; returns `{status, headers, body}`.
    pub fn send(&mut self, request: &serde_json::Value) -> serde_json::Value {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("miniflare is running");
        writeln!(stdin, "{request}").expect("writing to miniflare");
        stdin.flush().expect("writing to miniflare");
        self.read_line()
    }

    fn read_line(&mut self) -> serde_json::Value {
        use std::io::BufRead;
        let mut line = String::new();
        let n = self.stdout.read_line(&mut line).expect("reading miniflare");
        assert!(n > 0, "miniflare exited (see its stderr above)");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("miniflare said {line:?}: {e}"))
    }
}

impl Drop for Miniflare {
    fn drop(&mut self) {
        xtask::miniflare::stop(&mut self.child, self.stdin.take());
    }
}

/// Instances of `region` killed by a test, restarted when dropped (even if an assertion
/// failed), so later tests see the whole stack.
pub struct KilledInstances {
    region: &'static str,
    instances: Vec<usize>,
}

impl KilledInstances {
    pub fn new(region: &'static str) -> Self {
        Self {
            region,
            instances: Vec::new(),
        }
    }

    /// Kills instance `k` (once).
    pub fn kill(&mut self, k: usize) {
        stack()
            .kill_instance(self.region, k)
            .expect("killing an instance");
        self.instances.push(k);
    }
}

impl Drop for KilledInstances {
    fn drop(&mut self) {
        for k in self.instances.drain(..) {
            stack()
                .restart_instance(self.region, k)
                .expect("restarting a killed instance");
        }
    }
}

/// What came back for a raw request: the status (`None` when the connection was closed
/// without an answer), the headers (lowercase names) and the body, de-chunked.
#[derive(Debug, Clone, PartialEq)]
pub struct RawResponse {
    pub status: Option<u16>,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `head` (request line and header lines, without the blank line that ends them) as
/// bytes to `edge`'s socket, with `Connection: close`, and reads the answer to the end:
/// for requests an HTTP client library would refuse to send (two `Host` lines, raw
/// UTF-8, absolute-form targets, oversized headers).
pub fn raw_request(edge: Edge, head: &[u8]) -> RawResponse {
    use std::io::{Read, Write};
    let address = edge.base().trim_start_matches("http://");
    let mut socket = std::net::TcpStream::connect(address).expect("connecting to the edge");
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut request = head.to_vec();
    request.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    // A server may answer and close before reading an oversized head: that is an answer.
    let _ = socket.write_all(&request);
    let mut raw = Vec::new();
    let _ = socket.read_to_end(&mut raw);
    parse_raw_response(&raw)
}

fn parse_raw_response(raw: &[u8]) -> RawResponse {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return RawResponse {
            status: None,
            headers: HashMap::new(),
            body: Vec::new(),
        };
    };
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok());
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        body = dechunk(&body);
    }
    RawResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut chunked: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(line_end) = chunked.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&chunked[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
            .unwrap_or(0);
        let start = line_end + 2;
        if size == 0 || chunked.len() < start + size {
            break;
        }
        body.extend_from_slice(&chunked[start..start + size]);
        chunked = &chunked[(start + size + 2).min(chunked.len())..];
    }
    body
}

/// An API answer: status, JSON body, headers.
pub type ApiAnswer = (u16, serde_json::Value, reqwest::header::HeaderMap);

/// An API request to clinic `slug` on `edge` with an optional bearer `token`, FHIR JSON
/// `body` and `extra` headers; the answer must be JSON (a resource, Bundle or
/// OperationOutcome), else the test fails naming the request.
pub fn fhir(
    edge: Edge,
    method: &str,
    slug: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
    extra: &[(&str, &str)],
) -> ApiAnswer {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut h: Vec<(&str, &str)> = vec![("content-type", "application/fhir+json")];
    if let Some(a) = &auth {
        h.push(("authorization", a));
    }
    h.extend_from_slice(extra);
    let r = edge.request(method, &edge.host_for(slug), path, &h, body);
    let status = r.status().as_u16();
    let hdrs = r.headers().clone();
    let text = r.text().expect("a body");
    let v = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{edge:?} {method} {path}: not JSON ({e}): {text}"));
    (status, v, hdrs)
}

/// Asserts `v` is an error `OperationOutcome`.
pub fn assert_outcome(v: &serde_json::Value, what: &str) {
    assert_eq!(v["resourceType"], "OperationOutcome", "{what}: {v}");
    assert_eq!(v["issue"][0]["severity"], "error", "{what}");
}

/// A client of one clinic through one edge that reads its own writes, as a careful app
/// does: each write's `X-Telemed-Lsn` is remembered (the furthest one) and sent back as
/// `X-Telemed-Min-Lsn` on reads, so a lagging replica never answers with older data.
/// Clones (and [`Session::on`]) share what they remember.
#[derive(Clone)]
pub struct Session {
    pub edge: Edge,
    pub slug: String,
    pub token: String,
    lsn: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl Session {
    pub fn new(edge: Edge, slug: &str, token: &str) -> Self {
        Self {
            edge,
            slug: slug.to_owned(),
            token: token.to_owned(),
            lsn: Default::default(),
        }
    }

    /// The same session through another edge.
    pub fn on(&self, edge: Edge) -> Self {
        Self {
            edge,
            ..self.clone()
        }
    }

    /// The same clinic and memory, with another token.
    pub fn with_token(&self, token: &str) -> Self {
        Self {
            token: token.to_owned(),
            ..self.clone()
        }
    }

    /// `region:X/Y` as a comparable position.
    fn position(lsn: &str) -> Option<(u64, u64)> {
        let (_, xy) = lsn.split_once(':')?;
        let (x, y) = xy.split_once('/')?;
        Some((
            u64::from_str_radix(x, 16).ok()?,
            u64::from_str_radix(y, 16).ok()?,
        ))
    }

    pub fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
        extra: &[(&str, &str)],
    ) -> ApiAnswer {
        let body = body.map(serde_json::Value::to_string);
        self.send_text(method, path, body.as_deref(), extra)
    }

    /// [`Session::send`] of a body as given (malformed ones included).
    pub fn send_text(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        extra: &[(&str, &str)],
    ) -> ApiAnswer {
        let remembered = self.lsn.lock().expect("lsn").clone();
        let mut headers: Vec<(&str, &str)> = extra.to_vec();
        if matches!(method, "GET" | "HEAD")
            && let Some(lsn) = &remembered
        {
            headers.push(("x-telemed-min-lsn", lsn));
        }
        let answer = fhir(
            self.edge,
            method,
            &self.slug,
            path,
            Some(&self.token),
            body,
            &headers,
        );
        if let Some(new) = answer.2.get("x-telemed-lsn").and_then(|v| v.to_str().ok()) {
            let mut lsn = self.lsn.lock().expect("lsn");
            let newer = match lsn.as_deref() {
                None => true,
                Some(old) => Self::position(new) > Self::position(old),
            };
            if newer {
                *lsn = Some(new.to_owned());
            }
        }
        answer
    }

    pub fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let (s, b, _) = self.send("GET", path, None, &[]);
        (s, b)
    }

    pub fn post(&self, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        let (s, b, _) = self.send("POST", path, Some(body), &[]);
        (s, b)
    }
}

/// Registers and approves a marketplace app on the stack's control plane, as an operator
/// would (`regional-db apps add --file … && regional-db apps approve <slug>`, the stack's
/// built binary against eu-west, which holds the control plane), then waits (up to 15 s)
/// until every region's replicated catalog has it approved. `spec` is an app spec
/// (`telemed_shared::apps::AppSpec`: slug, names, descriptions, developer, category,
/// pricing?, requested_scopes, webhook_url?, webhook_events?, client); give each test its
/// own slug. Returns what `apps add` printed: `{"app_id", "slug", "client_id",
/// "client_secret"? (client_secret_basic), "webhook_secret"? (with a webhook_url)}`.
pub fn register_app(spec: serde_json::Value) -> serde_json::Value {
    let s = stack();
    let control = s
        .regions
        .iter()
        .find(|r| r.id == "eu-west")
        .expect("eu-west, the control plane's region, in the stack");
    let file = std::env::temp_dir().join(format!(
        "telemed-app-{}-{}.json",
        spec["slug"].as_str().unwrap_or("app"),
        now_secs()
    ));
    std::fs::write(&file, spec.to_string()).expect("writing the app spec");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(&s.regional_db_bin)
            .args(args)
            .env("DATABASE_URL", &control.database_url)
            .env("CONTROL_DATABASE_URL", &control.control_database_url)
            .env("REGION", "eu-west")
            .env("USER", "e2e-operator")
            .output()
            .expect("running regional-db apps");
        assert!(
            out.status.success(),
            "regional-db {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let added: serde_json::Value =
        serde_json::from_str(run(&["apps", "add", "--file", &file.to_string_lossy()]).trim())
            .expect("apps add prints one JSON object");
    let _ = std::fs::remove_file(&file);
    let slug = added["slug"].as_str().expect("slug").to_owned();
    run(&["apps", "approve", &slug]);
    let app_id = added["app_id"].as_str().expect("app_id").to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    for r in &s.regions {
        let sql = format!(
            "SELECT count(*) FROM control.apps a JOIN control.oauth_clients c ON c.app = a.id \
             WHERE a.id = '{app_id}' AND a.status = 'approved'"
        );
        while psql(&r.database_url, &sql) != "1" {
            assert!(
                std::time::Instant::now() < deadline,
                "app {slug} not replicated to {} within 15 s",
                r.id
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    added
}

/// The CSRF token of [`session_cookie`]'s sessions (what their forms carry).
pub const SESSION_CSRF: &str = "e2e-csrf-token-of-this-session";

/// Installs app `app_id` in clinic `slug` (of `country`) through the real admin page on
/// `edge`, as a signed-in admin: renders `/admin/apps` for the install form's key, then
/// posts it with one `scope` checkbox per entry of `scopes` (as the app requested them).
/// Returns (status, Location): `303` and `/admin/apps?done=installed#app-…` when installed;
/// `303` with `?error=not-installable` when the database refused (app not approved, a scope
/// not requested); `422` for an empty grant.
pub fn install_app(
    edge: Edge,
    slug: &str,
    country: &str,
    app_id: &str,
    scopes: &[&str],
) -> (u16, String) {
    let fields: Vec<(&str, &str)> = scopes.iter().map(|s| ("scope", *s)).collect();
    admin_apps_post(
        edge,
        slug,
        country,
        &format!("/admin/apps/{app_id}/install"),
        fields,
    )
}

/// Uninstalls app `app_id` from clinic `slug` (of `country`) through the real admin page on
/// `edge` (the confirmation box ticked). Returns (status, Location): `303` and
/// `/admin/apps?done=uninstalled`, or `?error=not-installed` when it was not installed.
pub fn uninstall_app(edge: Edge, slug: &str, country: &str, app_id: &str) -> (u16, String) {
    admin_apps_post(
        edge,
        slug,
        country,
        &format!("/admin/apps/{app_id}/uninstall"),
        vec![("confirm", "yes")],
    )
}

/// Posts one of `/admin/apps`'s forms (`action`) with `fields`, as an admin of `slug`.
fn admin_apps_post(
    edge: Edge,
    slug: &str,
    country: &str,
    action: &str,
    mut fields: Vec<(&str, &str)>,
) -> (u16, String) {
    let cookie = session_cookie(
        slug,
        country,
        telemed_shared::accounts::Role::Admin,
        "E2E Admin",
        None,
        now_secs(),
    );
    let host = edge.host_for(slug);
    let page = edge.get(&host, "/admin/apps", &[("cookie", &cookie)]);
    assert_eq!(page.status().as_u16(), 200, "/admin/apps of {slug}");
    let html = page.text().expect("the page's body");
    // The form's own idempotency key; an action the page does not offer (an app already
    // installed, or not installed) still posts, with a fresh key.
    let idem = html
        .find(&format!(r#"action="{action}""#))
        .and_then(|at| {
            let rest = &html[at..];
            let from = rest.find(r#"name="idem" value=""#)? + 19;
            rest[from..].split('"').next().map(str::to_owned)
        })
        .unwrap_or_else(|| format!("e2e-{}", now_secs()));
    fields.push(("csrf", SESSION_CSRF));
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .append_pair("idem", &idem)
        .finish();
    let r = edge.request(
        "POST",
        &host,
        action,
        &[
            ("cookie", &cookie),
            ("content-type", "application/x-www-form-urlencoded"),
            ("sec-fetch-site", "same-origin"),
        ],
        Some(&body),
    );
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (r.status().as_u16(), location)
}

/// A fresh operator of the stack's control plane, made with `regional-db operators create`
/// (as an operator would, against the control plane's database). Returns (email, password).
pub fn new_operator(prefix: &str) -> (String, String) {
    let mut r = [0u8; 8];
    getrandom::fill(&mut r).expect("randomness");
    let tag = u64::from_le_bytes(r);
    let email = format!("{prefix}-{tag:016x}@ops.e2e.example");
    let password = format!("e2e operator passphrase {tag:x}");
    let control = telemed_shared::geo::RegionMap::embedded()
        .control_plane()
        .id
        .to_string();
    let region = stack()
        .region(&control)
        .expect("the control plane's region is in the stack");
    let out = std::process::Command::new(&stack().regional_db_bin)
        .args([
            "operators",
            "create",
            "--email",
            &email,
            "--name",
            "E2E Operator",
        ])
        .env("OPERATOR_PASSWORD", &password)
        .env("DATABASE_URL", &region.control_database_url)
        .env("REGION", &control)
        .env("USER", "telemed-e2e")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("running regional-db operators create");
    assert!(
        out.status.success(),
        "creating operator {email}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (email, password)
}

impl Edge {
    /// The platform's apex host on this edge (`localhost:<port>`): where operators are.
    pub fn apex_host(self) -> String {
        format!("localhost:{}", self.port())
    }
}
