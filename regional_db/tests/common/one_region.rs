//! One region of a test binary's own: a migrated eu-west database (which also holds the
//! control schema) and `regional-db`s serving it with a fresh edge key — what the pages'
//! end-to-end tests (`web_*.rs`) stand on.

use std::time::Duration;

use regional_db::{Config, db};
use telemed_shared::auth::{SigningKey, VerifyingKeys};
use xtask::pg::PgCluster;

use super::{Server, cluster, region};

/// The database's name in the cluster.
pub const EU: &str = "region_eu";

pub struct OneRegion {
    pub cluster: PgCluster,
    edge_key: Vec<u8>,
}

impl OneRegion {
    /// The cluster `name` (under the target's temporary folder), its database made afresh
    /// and migrated.
    pub fn start(name: &str) -> Self {
        let cluster = cluster(name, &[EU]);
        let url = cluster.url(EU);
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async {
                let pool = db::pool(&url, 1, Duration::from_secs(10)).unwrap();
                regional_db::migrate::run(&region("eu-west"), &pool, &pool, false)
                    .await
                    .unwrap();
            })
        })
        .join()
        .unwrap();
        let edge_key = jwt_simple::prelude::Ed25519KeyPair::generate().to_bytes();
        OneRegion { cluster, edge_key }
    }

    /// The database's URL.
    pub fn url(&self) -> String {
        self.cluster.url(EU)
    }

    /// The key edges sign their tokens with here.
    pub fn signer(&self) -> SigningKey {
        SigningKey::from_key_pair_bytes(&self.edge_key).unwrap()
    }

    /// A `regional-db` of eu-west on this database, trusting [`OneRegion::signer`].
    pub async fn serve(&self) -> Server {
        let keys = VerifyingKeys::from_base64_list(&self.signer().public_base64()).unwrap();
        let mut config = Config::new(region("eu-west"), self.url(), keys);
        config.control_database_url = Some(self.url());
        Server::spawn(config).await
    }
}
