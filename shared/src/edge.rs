//! The request entry point every adapter calls.

use http::{Request, Response, StatusCode};

use crate::{
    config::EdgeConfig,
    geo::GeoHint,
    host::{Handled, Host},
};

/// Serves one request: reads the configuration through `vars`, then resolves the clinic,
/// negotiates the locale and routes to a page or the API. Always answers; never panics
/// on client input.
pub async fn serve<H: Host>(
    host: &H,
    vars: impl Fn(&str) -> Option<String>,
    geo: GeoHint,
    request: Request<Vec<u8>>,
) -> Handled {
    match EdgeConfig::from_lookup(vars) {
        Ok(config) => handle(host, &config, geo, request).await,
        Err(_e) => Handled {
            response: Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .header("content-type", "text/plain; charset=utf-8")
                .body(b"service misconfigured".to_vec())
                .expect("static response"),
            background: Vec::new(),
        },
    }
}

/// Serves one request with a loaded configuration.
pub async fn handle<H: Host>(_host: &H, _config: &EdgeConfig, _geo: GeoHint, _request: Request<Vec<u8>>) -> Handled {
    // Placeholder until the router lands (same session).
    Handled {
        response: Response::builder().status(StatusCode::SERVICE_UNAVAILABLE).body(Vec::new()).expect("static"),
        background: Vec::new(),
    }
}
