//! Creating a clinic: its schema in its home region's database, its migrations, and its
//! entry in the directory (the control schema).
//!
//! All or nothing: the schema and its migrations are one transaction; when the directory is
//! in the same database it joins that transaction, otherwise the clinic is registered last
//! and the fresh schema is dropped again if registration fails. A clinic is never left
//! half-created, and never visible in the directory without its schema.

use deadpool_postgres::{GenericClient, Pool};
use telemed_shared::{
    compliance::policy_for,
    country::CountryCode,
    geo::{RegionId, RegionMap},
    money::Currency,
    tenant::{HostName, TenantEntry, TenantSlug, TenantStatus},
};

use crate::{
    db::quote_ident,
    error::Error,
    migrate::{self, pool_error},
};

/// What the operator asked for, unparsed.
#[derive(Debug, Clone)]
pub struct NewTenant {
    pub slug: String,
    pub name: String,
    pub country: String,
    /// An explicit home region, instead of the one the region map gives the country. Only
    /// a region the country's policy allows (`compliance::Policy::hosting`) is accepted.
    pub region: Option<String>,
    pub domains: Vec<String>,
    /// The clinic's billing currency (ISO 4217), instead of its country's: a clinic near a
    /// border, or one billing foreign patients in their currency.
    pub currency: Option<String>,
}

/// Where the command runs: this instance's region and its databases.
pub struct Target<'a> {
    pub region: &'a RegionId,
    pub pool: &'a Pool,
    pub control: &'a Pool,
    /// The control schema lives in this region's own database (one transaction is possible).
    pub control_is_local: bool,
}

/// Validates the request, decides the home region and the clinic's defaults, without
/// touching a database.
pub fn plan(req: &NewTenant, this_region: &RegionId) -> Result<TenantEntry, Error> {
    let slug: TenantSlug = req.slug.parse()?;
    let country: CountryCode = req.country.parse()?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::Config(
            "a clinic name has 1 to 200 characters".into(),
        ));
    }
    let map = RegionMap::embedded();
    let by_country = &map.home_for_country(&country).id;
    let home = match &req.region {
        None => by_country.clone(),
        Some(r) => {
            let requested: RegionId = r.parse().map_err(|e| Error::Config(format!("{e}")))?;
            if map.get(requested.as_str()).is_none() {
                return Err(Error::UnknownRegion {
                    requested,
                    known: map.regions().iter().map(|r| r.id.clone()).collect(),
                });
            }
            let policy = policy_for(&country);
            if !policy.hosting.value.allows(by_country, &requested) {
                return Err(Error::Residency {
                    regulation: policy.regulation.value,
                    requested,
                    allowed: policy.hosting.value.allowed(by_country),
                    country,
                });
            }
            requested
        }
    };
    if &home != this_region {
        return Err(Error::WrongRegion {
            slug: slug.to_string(),
            home,
            this: this_region.clone(),
        });
    }
    let mut domains = req
        .domains
        .iter()
        .map(|d| {
            HostName::parse(d)
                .filter(|h| h.as_str().contains('.') && !h.as_str().starts_with('['))
                .map(|h| h.as_str().to_owned())
                .ok_or_else(|| Error::Config(format!("{d:?} is not a domain name")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    domains.sort();
    domains.dedup();
    // The operator's choice, else the country's; a country whose currency we do not bill in
    // keeps the platform's former default, the euro.
    let currency = match &req.currency {
        Some(c) => c.trim().parse::<Currency>().map_err(|e| {
            Error::Config(format!(
                "{e}; a clinic bills in one of {}",
                Currency::all()
                    .map(|c| c.code())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?,
        None => country.default_currency().unwrap_or(Currency::Eur),
    };
    Ok(TenantEntry {
        slug,
        name: name.to_owned(),
        default_locale: country.default_locale_tag().unwrap_or("fr").to_owned(),
        currency: currency.code().to_owned(),
        country,
        home_region: home,
        plan: "standard".into(),
        status: TenantStatus::Active,
        domains,
    })
}

/// Creates the clinic. See the module documentation for the all-or-nothing guarantee.
pub async fn create(req: &NewTenant, target: &Target<'_>) -> Result<TenantEntry, Error> {
    let entry = plan(req, target.region)?;
    let schema = quote_ident(&entry.slug.schema_name());

    {
        let control = target.control.get().await.map_err(pool_error)?;
        if control
            .query_opt(
                "SELECT 1 FROM control.tenants WHERE slug = $1",
                &[&entry.slug.as_str()],
            )
            .await?
            .is_some()
        {
            return Err(Error::AlreadyExists(format!("clinic {}", entry.slug)));
        }
        if let Some(row) = control
            .query_opt(
                "SELECT domain FROM control.tenant_domains WHERE domain = ANY($1)",
                &[&entry.domains],
            )
            .await?
        {
            return Err(Error::AlreadyExists(format!(
                "domain {}",
                row.get::<_, String>(0)
            )));
        }
    }

    let mut client = target.pool.get().await.map_err(pool_error)?;
    let tx = client.transaction().await?;
    if let Err(e) = tx.batch_execute(&format!("CREATE SCHEMA {schema}")).await {
        if e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_SCHEMA) {
            return Err(Error::AlreadyExists(format!("schema {schema}")));
        }
        return Err(e.into());
    }
    migrate::migrate_tenant_in(&tx, &entry.slug).await?;
    install_policy(&tx, &schema, &entry).await?;

    if target.control_is_local {
        register(&tx, &entry).await?;
        tx.commit().await?;
        return Ok(entry);
    }
    tx.commit().await?;
    let registered = async {
        let mut control = target.control.get().await.map_err(pool_error)?;
        let ctx = control.transaction().await?;
        register(&ctx, &entry).await?;
        ctx.commit().await?;
        Ok::<_, Error>(())
    }
    .await;
    if let Err(e) = registered {
        // Undo the schema: nothing of this clinic may outlive a failed creation.
        if let Err(drop_err) = client
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
        {
            tracing::error!(error = %drop_err, %schema, "could not drop the schema of a failed creation");
        }
        return Err(e);
    }
    Ok(entry)
}

/// Installs the country's required patient fields as check constraints, so the clinic's
/// schema enforces its regulation whatever the caller knew (see `PatientField::constraint_name`),
/// its consent gates ([`sync_policy`]), and records its country there (where
/// `Patient/$erase` picks its retention rule).
async fn install_policy(
    tx: &impl GenericClient,
    schema: &str,
    e: &TenantEntry,
) -> Result<(), Error> {
    sync_policy(tx, schema, &e.country).await?;
    sync_billing(tx, schema, &e.currency).await?;
    tx.execute(
        &format!("INSERT INTO {schema}.clinic (country) VALUES ($1)"),
        &[&e.country.as_str()],
    )
    .await?;
    let policy = policy_for(&e.country);
    for field in policy.required_patient_fields.value {
        tx.batch_execute(&format!(
            "ALTER TABLE {schema}.patients ADD CONSTRAINT {} CHECK ({} IS NOT NULL)",
            field.constraint_name(),
            field.column()
        ))
        .await?;
    }
    Ok(())
}

/// Writes the consent gates of `country`'s policy into the clinic's schema
/// (`policy_consent_gates`: which consent each processing needs, and the rule's source),
/// replacing what was there: run at creation and by every `migrate`, so a policy reviewed
/// in code reaches every clinic with the next deployment.
pub async fn sync_policy(
    tx: &impl GenericClient,
    schema: &str,
    country: &CountryCode,
) -> Result<(), Error> {
    let table = format!("{schema}.policy_consent_gates");
    tx.execute(&format!("DELETE FROM {table}"), &[]).await?;
    let insert = format!("INSERT INTO {table} (processing, kind, citation) VALUES ($1, $2, $3)");
    for rule in policy_for(country).consents {
        for processing in rule.gates {
            tx.execute(
                &insert,
                &[&processing.code(), &rule.kind, &rule.source.citation()],
            )
            .await?;
        }
    }
    Ok(())
}

/// Writes the clinic's billing currency and its minor units into its schema
/// (`clinic_billing`), where prices are checked against it whatever the edge knew: run at
/// creation and by every `migrate`, from the directory's `control.tenants.currency`.
pub async fn sync_billing(
    tx: &impl GenericClient,
    schema: &str,
    currency: &str,
) -> Result<(), Error> {
    let currency: Currency = currency
        .parse()
        .map_err(|e| Error::Config(format!("clinic schema {schema}: {e}")))?;
    let minor_units = i32::try_from(currency.minor_units()).unwrap_or(i32::MAX);
    tx.execute(
        &format!(
            "INSERT INTO {schema}.clinic_billing (currency, minor_units) VALUES ($1, $2) \
             ON CONFLICT (one) DO UPDATE SET currency = EXCLUDED.currency, \
             minor_units = EXCLUDED.minor_units"
        ),
        &[&currency.code(), &minor_units],
    )
    .await?;
    Ok(())
}

async fn register(tx: &impl GenericClient, e: &TenantEntry) -> Result<(), Error> {
    let version = i32::try_from(migrate::tenant_schema_version()).unwrap_or(i32::MAX);
    let inserted = tx
        .execute(
            "INSERT INTO control.tenants \
               (slug, name, country, home_region, default_locale, currency, plan, status, schema_version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8)",
            &[
                &e.slug.as_str(),
                &e.name,
                &e.country.as_str(),
                &e.home_region.as_str(),
                &e.default_locale,
                &e.currency,
                &e.plan,
                &version,
            ],
        )
        .await;
    if let Err(err) = inserted {
        if err.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
            return Err(Error::AlreadyExists(format!("clinic {}", e.slug)));
        }
        return Err(err.into());
    }
    for d in &e.domains {
        tx.execute(
            "INSERT INTO control.tenant_domains (domain, slug) VALUES ($1, $2)",
            &[d, &e.slug.as_str()],
        )
        .await
        .map_err(|err| match err.code() {
            Some(c) if *c == tokio_postgres::error::SqlState::UNIQUE_VIOLATION => {
                Error::AlreadyExists(format!("domain {d}"))
            }
            _ => err.into(),
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(slug: &str, country: &str, region: Option<&str>) -> NewTenant {
        NewTenant {
            slug: slug.into(),
            name: "Clinique".into(),
            country: country.into(),
            region: region.map(Into::into),
            domains: vec![
                "WWW.Clinique.example.".into(),
                "www.clinique.example".into(),
            ],
            currency: None,
        }
    }

    fn region(s: &str) -> RegionId {
        s.parse().unwrap()
    }

    #[test]
    fn defaults_come_from_the_country() {
        let e = plan(&req("clinique-dakar", "sn", None), &region("af-south")).unwrap();
        assert_eq!(
            (e.country.as_str(), e.home_region.as_str()),
            ("SN", "af-south")
        );
        assert_eq!(
            (e.default_locale.as_str(), e.currency.as_str()),
            ("fr", "XOF")
        );
        assert_eq!(e.domains, ["www.clinique.example"]);
        // A country with no served language gets the platform default.
        let e = plan(&req("clinic-tokyo", "JP", None), &region("eu-west")).unwrap();
        assert_eq!(e.default_locale, "fr");
    }

    #[test]
    fn the_currency_is_the_countrys_unless_the_operator_names_another() {
        let mut r = req("clinique-dakar", "SN", None);
        assert_eq!(plan(&r, &region("af-south")).unwrap().currency, "XOF");
        r.currency = Some(" eur ".into());
        assert_eq!(plan(&r, &region("af-south")).unwrap().currency, "EUR");
        r.currency = Some("EURO".into());
        let err = plan(&r, &region("af-south")).unwrap_err();
        assert!(
            matches!(err, Error::Config(_)) && err.to_string().contains("XOF"),
            "{err}"
        );
    }

    #[test]
    fn a_clinic_is_created_only_by_its_home_regions_instance() {
        let err = plan(&req("clinic-ny", "US", None), &region("eu-west")).unwrap_err();
        assert!(
            matches!(&err, Error::WrongRegion { home, .. } if home.as_str() == "us-east"),
            "{err}"
        );
        assert!(
            err.to_string().contains("run this on the us-east instance"),
            "{err}"
        );
    }

    #[test]
    fn an_override_the_policy_allows_becomes_the_home_region() {
        for country in ["SN", "ZA"] {
            let e = plan(
                &req("clinic-eu", country, Some("eu-west")),
                &region("eu-west"),
            )
            .unwrap();
            assert_eq!(e.home_region.as_str(), "eu-west", "{country}");
        }
        // Asking for the country's own home region is always allowed.
        let e = plan(
            &req("hopital-paris", "FR", Some("eu-west")),
            &region("eu-west"),
        )
        .unwrap();
        assert_eq!(e.home_region.as_str(), "eu-west");
        // An allowed override still runs only on its own region's instance.
        let err = plan(
            &req("clinic-eu", "SN", Some("eu-west")),
            &region("af-south"),
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::WrongRegion { home, .. } if home.as_str() == "eu-west"),
            "{err}"
        );
    }

    #[test]
    fn an_override_the_policy_forbids_is_refused_with_the_allowed_regions() {
        let err = plan(
            &req("hopital-paris", "FR", Some("us-east")),
            &region("us-east"),
        )
        .unwrap_err();
        assert!(
            matches!(
                &err,
                Error::Residency { country, requested, allowed, .. }
                    if country.as_str() == "FR"
                        && requested.as_str() == "us-east"
                        && allowed == &[region("eu-west")]
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "data residency: under GDPR/HDS, clinics in FR may be homed only in eu-west, not in us-east"
        );

        let err = plan(
            &req("clinique-dakar", "SN", Some("us-east")),
            &region("us-east"),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "data residency: under CDP (loi 2008-12), clinics in SN may be homed only in af-south or eu-west, not in us-east"
        );
        // Morocco's home is eu-west; South Africa is not on the list its law relies on.
        let err = plan(
            &req("casablanca-sante", "MA", Some("af-south")),
            &region("af-south"),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Residency { .. }), "{err}");
    }

    #[test]
    fn an_unlisted_country_stays_in_the_region_the_map_gives_it() {
        for (country, home, other) in [("JP", "eu-west", "us-east"), ("CA", "us-east", "eu-west")] {
            let err = plan(&req("clinic-x", country, Some(other)), &region(other)).unwrap_err();
            assert!(
                matches!(&err, Error::Residency { allowed, .. } if allowed == &[region(home)]),
                "{country}: {err}"
            );
            let e = plan(&req("clinic-x", country, Some(home)), &region(home)).unwrap();
            assert_eq!(e.home_region.as_str(), home);
        }
    }

    #[test]
    fn an_unknown_region_is_refused_as_such() {
        let err = plan(
            &req("clinic-tokyo", "JP", Some("mars-1")),
            &region("mars-1"),
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::UnknownRegion { requested, .. } if requested.as_str() == "mars-1"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "region mars-1 is not in the region map (infra/regions.toml has eu-west, us-east and af-south)"
        );
        // Known to no map, even for a country whose policy allows another region.
        let err = plan(
            &req("clinique-dakar", "SN", Some("mars-1")),
            &region("mars-1"),
        )
        .unwrap_err();
        assert!(matches!(err, Error::UnknownRegion { .. }), "{err}");
        let err = plan(
            &req("clinique-dakar", "SN", Some("Not_A_Region")),
            &region("af-south"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("invalid region id"), "{err}");
    }

    #[test]
    fn bad_input_is_refused_clearly() {
        let err = plan(&req("www", "FR", None), &region("eu-west")).unwrap_err();
        assert!(err.to_string().contains("reserved"), "{err}");
        assert!(matches!(
            plan(&req("Bad_Slug", "FR", None), &region("eu-west")),
            Err(Error::Slug(_))
        ));
        assert!(matches!(
            plan(&req("ok-slug", "FRA", None), &region("eu-west")),
            Err(Error::Country(_))
        ));
        let mut r = req("ok-slug", "FR", None);
        r.domains = vec!["not a domain".into()];
        assert!(plan(&r, &region("eu-west")).is_err());
    }
}
