//! Regions and geography: the region map of `infra/regions.toml`, the [`GeoHint`] an
//! adapter derives from its platform's geo data, and the choice of the nearest region.

use std::{collections::BTreeMap, fmt, str::FromStr, sync::OnceLock};

use serde::{Deserialize, Serialize};

use crate::country::CountryCode;

/// A region identifier such as `eu-west`: lowercase ASCII letters, digits and hyphens.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct RegionId(String);

impl RegionId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for RegionId {
    type Err = GeoError;
    fn from_str(s: &str) -> Result<Self, GeoError> {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(GeoError::BadRegionId(s.to_owned()))
        }
    }
}

impl<'de> Deserialize<'de> for RegionId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for RegionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Errors of the region map and geo hints.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum GeoError {
    /// A region identifier that is not a lowercase DNS-like label.
    #[error("invalid region id {0:?}")]
    BadRegionId(String),
    /// The region map could not be parsed.
    #[error("invalid region map: {0}")]
    BadMap(String),
    /// A country is listed under two regions, so its home would be ambiguous.
    #[error("country {0} is listed in two regions")]
    DuplicateCountry(String),
    /// `default` or `control_plane` names a region that is not in the map.
    #[error("region {0} is not defined in the map")]
    UnknownRegion(String),
}

/// One region of the map.
#[derive(Debug, Clone, Deserialize)]
pub struct Region {
    pub id: RegionId,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
    #[serde(default)]
    pub countries: Vec<CountryCode>,
    #[serde(default)]
    pub continents: Vec<String>,
    /// How many `regional-db` instances serve the region (deployment shape; at least 1).
    #[serde(default = "one")]
    pub instances: u16,
    /// Whether the region's Postgres has a streaming replica serving reads (deployment shape).
    #[serde(default)]
    pub replica: bool,
}

fn one() -> u16 {
    1
}

#[derive(Deserialize)]
struct RawMap {
    default: RegionId,
    control_plane: RegionId,
    region: Vec<Region>,
}

/// The region map, validated: every country in at most one region, defaults defined.
#[derive(Debug, Clone)]
pub struct RegionMap {
    regions: Vec<Region>,
    by_country: BTreeMap<CountryCode, usize>,
    default: usize,
    control_plane: usize,
}

impl RegionMap {
    /// Parses and validates a map in the `infra/regions.toml` format.
    pub fn parse(toml_text: &str) -> Result<Self, GeoError> {
        let raw: RawMap = toml::from_str(toml_text).map_err(|e| GeoError::BadMap(e.to_string()))?;
        let index = |id: &RegionId| {
            raw.region
                .iter()
                .position(|r| &r.id == id)
                .ok_or_else(|| GeoError::UnknownRegion(id.to_string()))
        };
        let default = index(&raw.default)?;
        let control_plane = index(&raw.control_plane)?;
        let mut by_country = BTreeMap::new();
        for (i, r) in raw.region.iter().enumerate() {
            for c in &r.countries {
                if by_country.insert(c.clone(), i).is_some() {
                    return Err(GeoError::DuplicateCountry(c.to_string()));
                }
            }
        }
        Ok(Self {
            regions: raw.region,
            by_country,
            default,
            control_plane,
        })
    }

    /// The map embedded from `infra/regions.toml` at build time.
    pub fn embedded() -> &'static RegionMap {
        static MAP: OnceLock<RegionMap> = OnceLock::new();
        MAP.get_or_init(|| {
            RegionMap::parse(crate::embedded::EMBEDDED_REGIONS)
                .expect("infra/regions.toml is validated by the unit tests")
        })
    }

    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    pub fn get(&self, id: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.id.as_str() == id)
    }

    pub fn default_region(&self) -> &Region {
        &self.regions[self.default]
    }

    /// The region that holds the primary of the control schema (the tenant directory).
    pub fn control_plane(&self) -> &Region {
        &self.regions[self.control_plane]
    }

    /// The home region of a clinic in `country`: where its data must live.
    pub fn home_for_country(&self, country: &CountryCode) -> &Region {
        self.by_country
            .get(country)
            .map_or(self.default_region(), |&i| &self.regions[i])
    }

    /// The region an edge should call first: by country, then by great-circle distance,
    /// then by continent, then the default.
    pub fn nearest(&self, hint: &GeoHint) -> &Region {
        if let Some(i) = hint.country.as_ref().and_then(|c| self.by_country.get(c)) {
            return &self.regions[*i];
        }
        if let Some((lat, lon)) = hint.lat_lon {
            let closest = self.regions.iter().min_by(|a, b| {
                haversine_km(lat, lon, a.lat, a.lon)
                    .total_cmp(&haversine_km(lat, lon, b.lat, b.lon))
            });
            if let Some(r) = closest {
                return r;
            }
        }
        if let Some(cont) = &hint.continent
            && let Some(r) = self
                .regions
                .iter()
                .find(|r| r.continents.iter().any(|c| c == cont))
        {
            return r;
        }
        self.default_region()
    }
}

/// What the edge knows about where a request comes from, whatever the platform.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeoHint {
    pub country: Option<CountryCode>,
    /// Two-letter continent code as Cloudflare spells it (`EU`, `AF`, `NA`…).
    pub continent: Option<String>,
    /// Latitude and longitude in degrees, when valid.
    pub lat_lon: Option<(f64, f64)>,
    /// The point of presence, for metrics (`CDG`, `JNB`…).
    pub colo: Option<String>,
}

impl GeoHint {
    /// Builds a hint from loosely typed platform values, dropping any that are invalid
    /// rather than failing the request: geo is a routing hint, never a reason to refuse.
    pub fn from_parts(
        country: Option<&str>,
        continent: Option<&str>,
        lat: Option<f64>,
        lon: Option<f64>,
        colo: Option<&str>,
    ) -> Self {
        let lat_lon = match (lat, lon) {
            (Some(la), Some(lo))
                if (-90.0..=90.0).contains(&la) && (-180.0..=180.0).contains(&lo) =>
            {
                Some((la, lo))
            }
            _ => None,
        };
        let continent = continent
            .map(str::trim)
            .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
            .map(str::to_ascii_uppercase);
        Self {
            // Cloudflare uses `XX` for unknown and `T1` for Tor: neither is a country.
            country: country.and_then(|c| c.parse().ok()),
            continent,
            lat_lon,
            colo: colo
                .map(str::to_owned)
                .filter(|c| !c.is_empty() && c.len() <= 8),
        }
    }
}

/// The request headers a local stack uses to place a request anywhere in the world:
/// `x-dev-geo-{country,continent,lat,lon,colo}`. Any client can send them, so the edge
/// reads them only when its deployment says so ([`crate::config::EdgeConfig::dev_geo_headers`]).
pub const DEV_GEO_HEADERS: [&str; 5] = [
    "x-dev-geo-country",
    "x-dev-geo-continent",
    "x-dev-geo-lat",
    "x-dev-geo-lon",
    "x-dev-geo-colo",
];

impl GeoHint {
    /// The hint the [`DEV_GEO_HEADERS`] give, or `None` when the request carries none of
    /// them; invalid values are dropped as [`GeoHint::from_parts`] drops them.
    pub fn from_dev_headers(headers: &http::HeaderMap) -> Option<Self> {
        let [country, continent, lat, lon, colo] = DEV_GEO_HEADERS.map(|name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        });
        if [country, continent, lat, lon, colo]
            .iter()
            .all(Option::is_none)
        {
            return None;
        }
        let number = |v: Option<&str>| v.and_then(|v| v.parse::<f64>().ok());
        Some(Self::from_parts(
            country,
            continent,
            number(lat),
            number(lon),
            colo,
        ))
    }
}

/// Great-circle distance on a spherical Earth (good to ~0.5 %, plenty to rank regions).
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6371.0;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> &'static RegionMap {
        RegionMap::embedded()
    }

    #[test]
    fn embedded_map_is_valid_and_homes_the_demo_countries() {
        let m = map();
        for (c, r) in [
            ("FR", "eu-west"),
            ("MA", "eu-west"),
            ("US", "us-east"),
            ("ZA", "af-south"),
            ("SN", "af-south"),
        ] {
            assert_eq!(
                m.home_for_country(&c.parse().unwrap()).id.as_str(),
                r,
                "{c}"
            );
        }
        assert_eq!(m.control_plane().id.as_str(), "eu-west");
        // Unmapped countries fall back to the default region.
        assert_eq!(
            m.home_for_country(&"JP".parse().unwrap()).id.as_str(),
            "eu-west"
        );
    }

    #[test]
    fn nearest_by_country_then_distance_then_continent_then_default() {
        let m = map();
        let h = GeoHint::from_parts(Some("ZA"), Some("EU"), Some(48.0), Some(2.0), None);
        assert_eq!(m.nearest(&h).id.as_str(), "af-south", "country wins");
        // Kenya-ish coordinates with an unmapped country: nearest is Johannesburg.
        let h = GeoHint::from_parts(Some("UG"), None, Some(0.3), Some(32.6), None);
        assert_eq!(m.nearest(&h).id.as_str(), "af-south");
        // Brazil by coordinates is closer to Virginia than to Paris or Johannesburg.
        let h = GeoHint::from_parts(Some("BR"), None, Some(-15.8), Some(-47.9), None);
        assert_eq!(m.nearest(&h).id.as_str(), "us-east");
        let h = GeoHint::from_parts(None, Some("af"), None, None, None);
        assert_eq!(m.nearest(&h).id.as_str(), "af-south", "continent");
        assert_eq!(
            m.nearest(&GeoHint::default()).id.as_str(),
            "eu-west",
            "default"
        );
    }

    #[test]
    fn invalid_geo_parts_are_dropped_not_fatal() {
        let h = GeoHint::from_parts(Some("XX"), Some("Europe"), Some(91.0), Some(0.0), Some(""));
        assert_eq!(h, GeoHint::default());
        let h = GeoHint::from_parts(Some("T1"), None, Some(f64::NAN), Some(1.0), None);
        assert_eq!(h, GeoHint::default());
    }

    #[test]
    fn dev_geo_headers_place_a_request() {
        let mut h = http::HeaderMap::new();
        assert_eq!(GeoHint::from_dev_headers(&h), None, "none sent");
        h.insert("x-dev-geo-country", "ZA".parse().unwrap());
        h.insert("x-dev-geo-lat", " -26.2 ".parse().unwrap());
        h.insert("x-dev-geo-lon", "28.0".parse().unwrap());
        h.insert("x-dev-geo-colo", "JNB".parse().unwrap());
        h.insert("x-dev-geo-continent", "mars".parse().unwrap());
        let hint = GeoHint::from_dev_headers(&h).unwrap();
        assert_eq!(hint.country.map(|c| c.to_string()).as_deref(), Some("ZA"));
        assert_eq!(hint.lat_lon, Some((-26.2, 28.0)));
        assert_eq!(hint.colo.as_deref(), Some("JNB"));
        assert_eq!(hint.continent, None, "an invalid value is dropped");
    }

    #[test]
    fn bad_maps_are_refused() {
        let dup = r#"default = "a"
control_plane = "a"
[[region]]
id = "a"
name = "A"
lat = 0.0
lon = 0.0
countries = ["FR"]
[[region]]
id = "b"
name = "B"
lat = 0.0
lon = 0.0
countries = ["FR"]"#;
        assert_eq!(
            RegionMap::parse(dup).unwrap_err(),
            GeoError::DuplicateCountry("FR".into())
        );
        let unknown = dup
            .replace("default = \"a\"", "default = \"zz\"")
            .replace("[\"FR\"]\n[[", "[]\n[[");
        assert!(matches!(
            RegionMap::parse(&unknown),
            Err(GeoError::UnknownRegion(_))
        ));
        assert!("EU-West".parse::<RegionId>().is_err());
    }

    #[test]
    fn haversine_paris_johannesburg() {
        let d = haversine_km(48.86, 2.35, -26.2, 28.05);
        assert!((8600.0..8800.0).contains(&d), "{d}");
    }
}
