//! Read-your-writes across a lagging replica: the `X-Telemed-Lsn` a write answers and the
//! `X-Telemed-Min-Lsn` a later read echoes (see [`super`]'s documentation).

use http::Request;

use super::error::ApiError;
use crate::{
    dataplane::wire::{format_lsn, parse_lsn},
    fhir::{Issue, IssueCode},
    geo::RegionId,
};

/// Response header of a successful write: `<region>:<lsn>`.
pub const LSN_HEADER: &str = "x-telemed-lsn";
/// Request header of a read: the `X-Telemed-Lsn` of the caller's last write, echoed back.
pub const MIN_LSN_HEADER: &str = "x-telemed-min-lsn";

/// The position of a client's last write: the region that ran it and its WAL position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientLsn {
    pub region: RegionId,
    /// `X/Y` as Postgres prints it (validated).
    pub lsn: String,
}

impl ClientLsn {
    /// `eu-west:0/16B3740`; `None` when malformed.
    pub fn parse(value: &str) -> Option<Self> {
        let (region, lsn) = value.trim().split_once(':')?;
        let region: RegionId = region.parse().ok()?;
        let lsn = format_lsn(parse_lsn(lsn)?);
        Some(Self { region, lsn })
    }

    /// The header value, the inverse of [`ClientLsn::parse`].
    pub fn header_value(&self) -> String {
        format!("{}:{}", self.region, self.lsn)
    }
}

/// The client's `X-Telemed-Min-Lsn`, if it sent one; a malformed or repeated one is 400.
pub fn client_min_lsn(req: &Request<Vec<u8>>) -> Result<Option<ClientLsn>, ApiError> {
    let mut values = req.headers().get_all(MIN_LSN_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let parsed = value.to_str().ok().and_then(ClientLsn::parse);
    match parsed {
        Some(lsn) if values.next().is_none() => Ok(Some(lsn)),
        _ => Err(ApiError::BadRequest(vec![
            Issue::new(
                IssueCode::Value,
                "X-Telemed-Min-Lsn must be one value <region>:<lsn>, as X-Telemed-Lsn gave it",
            )
            .at("X-Telemed-Min-Lsn"),
        ])),
    }
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;

    #[test]
    fn client_lsns() {
        let l = ClientLsn::parse("eu-west:16/b374d848").unwrap();
        assert_eq!(l.region.as_str(), "eu-west");
        assert_eq!(l.lsn, "16/B374D848");
        assert_eq!(l.header_value(), "eu-west:16/B374D848");
        assert_eq!(ClientLsn::parse(&l.header_value()), Some(l));
        for bad in [
            "",
            "eu-west",
            "eu-west:",
            ":0/1",
            "EU:0/1",
            "eu-west:0/1/2",
            "eu-west:x/1",
        ] {
            assert_eq!(ClientLsn::parse(bad), None, "{bad:?}");
        }
        let req = |values: &[&str]| {
            let mut b = Request::builder().uri("https://x.localhost/v1/patients");
            for v in values {
                b = b.header(MIN_LSN_HEADER, *v);
            }
            b.body(Vec::new()).unwrap()
        };
        assert_eq!(client_min_lsn(&req(&[])).unwrap(), None);
        assert_eq!(
            client_min_lsn(&req(&["us-east:0/1"])).unwrap().unwrap().lsn,
            "0/1"
        );
        for bad in [
            &["0/1"][..],
            &["eu-west:zz"],
            &["eu-west:0/1", "eu-west:0/2"],
        ] {
            let e = client_min_lsn(&req(bad)).unwrap_err();
            assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{bad:?}");
        }
    }
}
