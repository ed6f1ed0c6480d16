//! What the integration test binaries of regional-db share: a server on an ephemeral port.
// Each test binary compiles this module and uses part of it.
#![allow(dead_code)]

use regional_db::Config;
use telemed_shared::geo::RegionId;

/// A `regional-db` serving on 127.0.0.1:0 for the rest of the test process.
pub struct Server {
    pub base: String,
    pub http: reqwest::Client,
}

impl Server {
    pub async fn spawn(config: Config) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(regional_db::run(listener, config, std::future::pending()));
        Server {
            base,
            http: reqwest::Client::new(),
        }
    }
}

pub fn region(s: &str) -> RegionId {
    s.parse().unwrap()
}
