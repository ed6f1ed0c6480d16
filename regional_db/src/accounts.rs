//! Accounts made by an operator: `regional-db accounts create` (a clinic's first admin, the
//! local stack's demo accounts). Edges create theirs with the `account.create` statement;
//! both hash the password here, in the region ([`crate::passwords`]), and audit the
//! creation.

use deadpool_postgres::Pool;
use telemed_shared::{
    accounts::{self, Password, PasswordError, Role, normalize_email},
    geo::RegionId,
    tenant::TenantSlug,
};
use tokio_postgres::error::SqlState;
use uuid::Uuid;

use crate::{
    db::{self, AuditEntry},
    jobs::{self, JobError},
    migrate::pool_error,
    passwords::{self, HashError},
};

/// The resource type accounts are audited as.
pub const ACCOUNT: &str = accounts::ACCOUNT_AUDIT_TYPE;

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: String,
    pub role: Role,
    pub display_name: String,
    pub patient_id: Option<Uuid>,
    pub practitioner_id: Option<Uuid>,
}

/// Why an account was not created. Never carries the password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// The email is not an address.
    #[error("{0:?} is not an email address")]
    Email(String),
    /// The password breaks the rule.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// A patient account needs `--patient`, a practitioner's `--practitioner`, and an
    /// account links to nothing else.
    #[error("a {role} account {why}")]
    Link { role: Role, why: &'static str },
    /// Another account of the clinic has this email (in any case).
    #[error("clinic {slug} already has an account with the email {email}")]
    EmailTaken { slug: TenantSlug, email: String },
    /// The linked patient or practitioner is not the clinic's.
    #[error("clinic {slug} has no such patient or practitioner")]
    UnknownLink { slug: TenantSlug },
    /// The clinic, the database or the hasher failed.
    #[error(transparent)]
    Job(#[from] JobError),
    #[error("hashing the password: {0}")]
    Hash(String),
}

impl From<tokio_postgres::Error> for AccountError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Job(JobError::Postgres(e))
    }
}

/// Checks what the table's constraints would refuse, to say it in the operator's terms.
fn check_links(new: &NewAccount) -> Result<(), AccountError> {
    let link = |why| {
        Err(AccountError::Link {
            role: new.role,
            why,
        })
    };
    match (new.role, new.patient_id, new.practitioner_id) {
        (Role::Patient, None, _) => link("needs its patient (--patient ID)"),
        (Role::Practitioner, _, None) => link("needs its practitioner (--practitioner ID)"),
        (Role::Patient, _, Some(_)) => link("links to no practitioner"),
        (Role::Practitioner, Some(_), _) => link("links to no patient"),
        (Role::Admin, Some(_), _) | (Role::Admin, _, Some(_)) => {
            link("links to no patient or practitioner")
        }
        _ => Ok(()),
    }
}

/// Creates an account of clinic `slug` (homed in `region`), by `actor` (the operator, for
/// the trail). Its id.
pub async fn create(
    pool: &Pool,
    control: &Pool,
    region: &RegionId,
    slug: &TenantSlug,
    new: &NewAccount,
    password: Password,
    actor: &str,
) -> Result<Uuid, AccountError> {
    let email = new.email.trim();
    normalize_email(email).ok_or_else(|| AccountError::Email(email.to_owned()))?;
    check_links(new)?;
    let hash = passwords::hash(password).await.map_err(|e| match e {
        HashError::Rule(rule) => AccountError::Password(rule),
        other => AccountError::Hash(other.to_string()),
    })?;
    jobs::clinics(control, region, Some(slug)).await?;
    let mut client = pool
        .get()
        .await
        .map_err(pool_error)
        .map_err(JobError::from)?;
    let tx = client.transaction().await?;
    db::pin_schema(&tx, slug).await?;
    let inserted = tx
        .query_one(
            "INSERT INTO accounts (email, role, display_name, patient_id, practitioner_id, password_hash) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[
                &email,
                &new.role.as_str(),
                &new.display_name,
                &new.patient_id,
                &new.practitioner_id,
                &hash,
            ],
        )
        .await;
    let id: Uuid = match inserted {
        Ok(row) => row.try_get(0)?,
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            return Err(AccountError::EmailTaken {
                slug: slug.clone(),
                email: email.to_owned(),
            });
        }
        Err(e) if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => {
            return Err(AccountError::UnknownLink { slug: slug.clone() });
        }
        Err(e) => return Err(e.into()),
    };
    let entry = AuditEntry::new(
        "create",
        "accounts.create",
        ACCOUNT,
        vec![Some(id.to_string())],
    );
    db::append_audit(&tx, actor, &entry).await?;
    tx.commit().await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(role: Role, patient: bool, practitioner: bool) -> NewAccount {
        NewAccount {
            email: "a@b.fr".into(),
            role,
            display_name: "A".into(),
            patient_id: patient.then(Uuid::nil),
            practitioner_id: practitioner.then(Uuid::nil),
        }
    }

    #[test]
    fn each_role_links_to_what_it_is() {
        assert!(check_links(&new(Role::Admin, false, false)).is_ok());
        assert!(check_links(&new(Role::Patient, true, false)).is_ok());
        assert!(check_links(&new(Role::Practitioner, false, true)).is_ok());
        for (role, patient, practitioner) in [
            (Role::Patient, false, false),
            (Role::Patient, true, true),
            (Role::Practitioner, false, false),
            (Role::Practitioner, true, true),
            (Role::Admin, true, false),
            (Role::Admin, false, true),
        ] {
            let e = check_links(&new(role, patient, practitioner)).unwrap_err();
            assert!(
                e.to_string().starts_with(&format!("a {role} account")),
                "{e}"
            );
        }
    }
}
