//! `/admin/accounts`: the clinic's sign-in accounts — listing them, creating a
//! practitioner's account (linked to their Practitioner) or an admin's, with an initial
//! password, and disabling or enabling one.
//!
//! The password goes to the region, which hashes it (argon2id) in the account's insert;
//! the edge only checks the rule ([`check_password`]) so a bad one is a message next to the
//! field without a call. A taken email is the region's `Conflict`, shown next to the email
//! field. Patients' accounts are made when they book, not here.

use http::{Method, Response, StatusCode};
use serde_json::{Map, Value, json};

use super::{LIST_LIMIT, PRACTITIONERS, availability::Fault, rows, utc_time};
use crate::{
    accounts::{
        MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, PasswordError, Role, check_password,
        names::{ACCOUNT_CREATE, ACCOUNT_LIST, ACCOUNT_SET_DISABLED},
        normalize_email,
    },
    api::parse_uuid,
    dataplane::wire::{Call, ErrorCode},
    host::Host,
    i18n::Arg,
    web::{
        Page, PageError, escape,
        form::{Field, FieldErrors, Form},
    },
};

/// A new account, as the form gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NewAccount {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub practitioner: Option<String>,
    pub password: String,
}

impl NewAccount {
    pub fn parse(form: &Form) -> Result<Self, Vec<Fault>> {
        let f = |field, id| Fault {
            field,
            id,
            args: vec![],
        };
        let mut faults = Vec::new();
        let email = form.get("email").and_then(normalize_email);
        if email.is_none() {
            faults.push(f("email", "admin-account-email-invalid"));
        }
        let display_name = form.get("display_name").map(str::to_owned);
        match &display_name {
            None => faults.push(f("display_name", "admin-account-name-missing")),
            Some(n) if n.chars().count() > 200 => faults.push(f("display_name", "admin-too-long")),
            _ => {}
        }
        let role = match form.get("role") {
            Some("practitioner") => Some(Role::Practitioner),
            Some("admin") => Some(Role::Admin),
            _ => {
                faults.push(f("role", "admin-account-role-invalid"));
                None
            }
        };
        let practitioner = match role {
            Some(Role::Practitioner) => {
                let p = form.get("practitioner").and_then(parse_uuid);
                if p.is_none() {
                    faults.push(f("practitioner", "admin-account-practitioner-missing"));
                }
                p
            }
            _ => None,
        };
        let password = form.raw("password").unwrap_or("").to_owned();
        match check_password(&password) {
            Ok(()) => {}
            Err(PasswordError::TooLong) => faults.push(Fault {
                field: "password",
                id: "admin-account-password-long",
                args: vec![("max", MAX_PASSWORD_CHARS as i64)],
            }),
            Err(_) => faults.push(Fault {
                field: "password",
                id: "admin-account-password-short",
                args: vec![("min", MIN_PASSWORD_CHARS as i64)],
            }),
        }
        match (email, display_name, role) {
            (Some(email), Some(display_name), Some(role)) if faults.is_empty() => Ok(Self {
                email,
                display_name,
                role,
                practitioner,
                password,
            }),
            _ => Err(faults),
        }
    }
}

/// `/admin/accounts`: GET the list and the form; POST creates an account.
pub async fn accounts<H: Host>(page: &mut Page<'_, '_, H>) -> Result<Response<Vec<u8>>, PageError> {
    if page.req.method() != Method::POST {
        return render(
            page,
            StatusCode::OK,
            &Form::default(),
            &FieldErrors::default(),
        )
        .await;
    }
    let form = page.posted()?.clone();
    let new = match NewAccount::parse(&form) {
        Ok(n) => n,
        Err(faults) => {
            let mut errors = FieldErrors::default();
            for f in faults {
                let args: Vec<(&str, Arg<'_>)> =
                    f.args.iter().map(|(k, v)| (*k, Arg::Num(*v))).collect();
                errors.add(f.field, crate::i18n::message(page.locale, f.id, &args));
            }
            return render(page, StatusCode::UNPROCESSABLE_ENTITY, &form, &errors).await;
        }
    };
    let call = Call {
        name: ACCOUNT_CREATE.into(),
        params: vec![
            json!(new.email),
            json!(new.role.as_str()),
            json!(new.display_name),
            Value::Null,
            json!(new.practitioner),
            json!(new.password),
        ],
    };
    let (status, field, id) = match page.write(vec![call]).await {
        Ok(_) => return Ok(page.redirect("/admin/accounts")),
        Err(e) if e.code() == ErrorCode::Conflict => {
            (StatusCode::CONFLICT, "email", "admin-account-email-taken")
        }
        // The practitioner is not this clinic's (the link's foreign key).
        Err(e) if e.code() == ErrorCode::ConstraintViolation => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "practitioner",
            "admin-account-practitioner-missing",
        ),
        Err(e) => return Err(e.into()),
    };
    let mut errors = FieldErrors::default();
    errors.add(field, page.text(id));
    render(page, status, &form, &errors).await
}

/// `POST /admin/accounts/{id}/disabled` with `disabled=true|false`.
pub async fn set_disabled<H: Host>(
    page: &mut Page<'_, '_, H>,
    id: &str,
) -> Result<Response<Vec<u8>>, PageError> {
    let id = parse_uuid(id).ok_or(PageError::NotFound)?;
    let disabled = match page.posted()?.get("disabled") {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(PageError::BadRequest),
    };
    // An admin does not lock themself out.
    if disabled && page.session.as_ref().is_some_and(|s| s.account == id) {
        return Err(PageError::BadRequest);
    }
    let answer = page
        .write(vec![Call {
            name: ACCOUNT_SET_DISABLED.into(),
            params: vec![json!(id), json!(disabled)],
        }])
        .await?;
    if rows(&answer, 0)?.is_empty() {
        return Err(PageError::NotFound);
    }
    Ok(page.redirect("/admin/accounts"))
}

fn text<'r>(row: &'r Map<String, Value>, k: &str) -> &'r str {
    row.get(k).and_then(Value::as_str).unwrap_or("")
}

async fn render<H: Host>(
    page: &mut Page<'_, '_, H>,
    status: StatusCode,
    form: &Form,
    errors: &FieldErrors,
) -> Result<Response<Vec<u8>>, PageError> {
    let answer = page
        .read(vec![
            Call {
                name: ACCOUNT_LIST.into(),
                params: vec![json!(LIST_LIMIT)],
            },
            Call {
                name: PRACTITIONERS.into(),
                params: vec![json!(LIST_LIMIT)],
            },
        ])
        .await?;
    let me = page.session.as_ref().map(|s| s.account.clone());
    let mut table = format!(
        r#"<table><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>"#,
        page.t("admin-account-col-email"),
        page.t("admin-account-col-name"),
        page.t("admin-account-col-role"),
        page.t("admin-col-status"),
        page.t("admin-account-col-last"),
        page.t("admin-col-actions"),
    );
    for row in rows(&answer, 0)? {
        let id = text(row, "id");
        let disabled = row
            .get("disabled")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let role = Role::parse(text(row, "role"));
        let role = match role {
            Some(Role::Patient) => page.t("admin-role-patient"),
            Some(Role::Practitioner) => page.t("admin-role-practitioner"),
            Some(Role::Admin) => page.t("admin-role-admin"),
            None => escape(text(row, "role")),
        };
        let last = match row.get("last_sign_in_at").and_then(Value::as_str) {
            Some(at) => utc_time(page.locale, at),
            None => page.t("admin-account-never"),
        };
        let (state, button, next) = if disabled {
            ("admin-account-disabled", "admin-account-enable", "false")
        } else {
            ("admin-status-active", "admin-account-disable", "true")
        };
        let action = if me.as_deref() == Some(id) {
            String::new()
        } else {
            format!(
                r#"<form method="post" action="/admin/accounts/{id}/disabled" style="display:inline">{hidden}<input type="hidden" name="disabled" value="{next}"><button type="submit" class="secondary">{button}</button></form>"#,
                id = escape(id),
                hidden = page.hidden(true),
                button = page.t(button),
            )
        };
        table.push_str(&format!(
            r#"<tr><th scope="row">{email}</th><td>{name}</td><td>{role}</td><td>{state}</td><td>{last}</td><td>{action}</td></tr>"#,
            email = escape(text(row, "email")),
            name = escape(text(row, "display_name")),
            state = page.t(state),
        ));
    }
    table.push_str("</tbody></table>");
    // The practitioner select: active practitioners, by name.
    let chosen = form.get("practitioner");
    let mut options = format!(
        r#"<option value="">{}</option>"#,
        page.t("admin-account-practitioner-none")
    );
    for p in rows(&answer, 1)? {
        if p.get("active").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let id = text(p, "id");
        let name = [text(p, "given"), text(p, "family")]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let selected = if chosen == Some(id) { " selected" } else { "" };
        options.push_str(&format!(
            r#"<option value="{}"{selected}>{}</option>"#,
            escape(id),
            escape(&name)
        ));
    }
    let role = form.get("role").unwrap_or("practitioner");
    let role_options: String = [
        ("practitioner", "admin-role-practitioner"),
        ("admin", "admin-role-admin"),
    ]
    .iter()
    .map(|(v, id)| {
        let selected = if role == *v { " selected" } else { "" };
        format!(r#"<option value="{v}"{selected}>{}</option>"#, page.t(id))
    })
    .collect();
    let select = |name: &'static str, label: &str, options: &str| {
        let id = format!("f-{name}");
        let (attrs, message) = match errors.of(name) {
            Some(m) => (
                format!(r#" aria-invalid="true" aria-describedby="{id}-error""#),
                format!(
                    r#"<p class="field-error" id="{id}-error">{}</p>"#,
                    escape(m)
                ),
            ),
            None => (String::new(), String::new()),
        };
        format!(
            r#"<div class="field"><label for="{id}">{label}</label><select id="{id}" name="{name}"{attrs}>{options}</select>{message}</div>"#,
            label = escape(label),
        )
    };
    let labels = [
        page.text("admin-account-email"),
        page.text("admin-account-name"),
        page.text("admin-account-role"),
        page.text("admin-account-practitioner"),
        crate::i18n::message(
            page.locale,
            "admin-account-password",
            &[("min", Arg::Num(MIN_PASSWORD_CHARS as i64))],
        ),
    ];
    let input = |name: &'static str, label: &str, kind: &'static str, value, autocomplete| {
        Field {
            name,
            label,
            kind,
            value,
            required: true,
            autocomplete: Some(autocomplete),
        }
        .html(errors)
    };
    let title = page.t("admin-accounts-title");
    let body = format!(
        r#"<main>
{back}
<h1>{title}</h1>
{table}
<h2 id="new">{new}</h2>
<form method="post" action="/admin/accounts" novalidate aria-labelledby="new">
{hidden}
{email}
{name}
{role}
{practitioner}
{password}
<button type="submit">{submit}</button>
</form>
</main>"#,
        back = super::back(page, "/admin", "admin-back"),
        new = page.t("admin-account-new-title"),
        hidden = page.hidden(true),
        email = input("email", &labels[0], "email", form.get("email"), "off"),
        name = input(
            "display_name",
            &labels[1],
            "text",
            form.get("display_name"),
            "off"
        ),
        role = select("role", &labels[2], &role_options),
        practitioner = select("practitioner", &labels[3], &options),
        password = input("password", &labels[4], "password", None, "new-password"),
        submit = page.t("admin-account-submit"),
    );
    Ok(page.render(status, &title, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form::from_pairs(pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())))
    }

    #[test]
    fn an_account_form_is_checked_before_any_call() {
        let p = "5b0c1a2e-1111-4222-8333-444455556666";
        let a = NewAccount::parse(&form(&[
            ("email", " Claire@Example.FR "),
            ("display_name", "Dr Claire Durand"),
            ("role", "practitioner"),
            ("practitioner", p),
            ("password", "correct horse battery"),
        ]))
        .unwrap();
        assert_eq!(a.email, "claire@example.fr");
        assert_eq!(a.practitioner.as_deref(), Some(p));
        let admin = NewAccount::parse(&form(&[
            ("email", "a@b.fr"),
            ("display_name", "A"),
            ("role", "admin"),
            ("practitioner", p),
            ("password", "correct horse battery"),
        ]))
        .unwrap();
        assert_eq!((admin.role, admin.practitioner), (Role::Admin, None));
        let faults: Vec<_> = NewAccount::parse(&form(&[
            ("email", "nope"),
            ("role", "patient"),
            ("password", "short"),
        ]))
        .unwrap_err()
        .into_iter()
        .map(|f| (f.field, f.id))
        .collect();
        assert_eq!(
            faults,
            [
                ("email", "admin-account-email-invalid"),
                ("display_name", "admin-account-name-missing"),
                ("role", "admin-account-role-invalid"),
                ("password", "admin-account-password-short")
            ]
        );
        let faults: Vec<_> = NewAccount::parse(&form(&[
            ("email", "a@b.fr"),
            ("display_name", "A"),
            ("role", "practitioner"),
            ("password", "correct horse battery"),
        ]))
        .unwrap_err()
        .into_iter()
        .map(|f| f.field)
        .collect();
        assert_eq!(faults, ["practitioner"]);
    }
}
