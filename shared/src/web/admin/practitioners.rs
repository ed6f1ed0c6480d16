//! `/admin/practitioners`: the clinic's practitioners, adding one, and switching one off
//! (patients then no longer book them) or on again.
//!
//! A practitioner added here is a FHIR `Practitioner` built from the form and checked by
//! the API's own validation ([`resource::validate`], under the clinic's country policy),
//! stored by the API's own create statement ([`resource::create_call`]): the page and
//! `POST /v1/practitioners` store the same row for the same person.

use http::{Method, Response, StatusCode};
use serde_json::{Value, json};

use super::{LIST_LIMIT, PRACTITIONERS, SET_ACTIVE, int, rows};
use crate::{
    api::{
        parse_uuid,
        resource::{self, Invalid, Rules},
        resources::practitioner::Practitioner,
    },
    compliance::policy_for,
    dataplane::wire::Call,
    fhir::datatypes::civil_date,
    host::Host,
    web::{
        Page, PageError, escape,
        form::{Field, FieldErrors, Form},
    },
};

/// Longest name part or qualification accepted: longer is a typing accident.
const MAX_TEXT: usize = 200;

/// What the add form holds once read: the FHIR resource to validate.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct NewPractitioner {
    pub given: Option<String>,
    pub family: String,
    pub qualification: Option<String>,
    pub active: bool,
}

impl NewPractitioner {
    /// Reads the form: message ids next to the fields at fault.
    pub fn parse(form: &Form) -> Result<Self, Vec<(&'static str, &'static str)>> {
        let mut faults = Vec::new();
        let mut text = |name: &'static str| {
            let v = form.get(name).map(str::to_owned);
            if v.as_ref().is_some_and(|v| v.chars().count() > MAX_TEXT) {
                faults.push((name, "admin-too-long"));
            }
            v
        };
        let given = text("given");
        let family = text("family");
        let qualification = text("qualification");
        let Some(family) = family else {
            faults.push(("family", "admin-family-missing"));
            return Err(faults);
        };
        if !faults.is_empty() {
            return Err(faults);
        }
        Ok(Self {
            given,
            family,
            qualification,
            active: form.get("active").is_some(),
        })
    }

    /// The FHIR R4 Practitioner: one official name, the qualification as text.
    pub fn resource(&self) -> Value {
        let mut name = json!({"use": "official", "family": self.family});
        if let Some(g) = &self.given {
            name["given"] = json!(g.split_whitespace().collect::<Vec<_>>());
        }
        let mut r = json!({"resourceType": "Practitioner", "active": self.active, "name": [name]});
        if let Some(q) = &self.qualification {
            r["qualification"] = json!([{"code": {"text": q}}]);
        }
        r
    }
}

/// `/admin/practitioners`: GET the list and the add form; POST adds one.
pub async fn list<H: Host>(page: &mut Page<'_, '_, H>) -> Result<Response<Vec<u8>>, PageError> {
    if page.req.method() != Method::POST {
        return render(
            page,
            StatusCode::OK,
            &Form::default(),
            &FieldErrors::default(),
            None,
        )
        .await;
    }
    let form = page.posted()?.clone();
    let new = match NewPractitioner::parse(&form) {
        Ok(n) => n,
        Err(faults) => {
            let mut errors = FieldErrors::default();
            for (field, id) in faults {
                errors.add(field, page.text(id));
            }
            return render(page, StatusCode::UNPROCESSABLE_ENTITY, &form, &errors, None).await;
        }
    };
    let policy = policy_for(&page.entry.country);
    let today = civil_date(page.ctx.host.now_millis());
    let rules = Rules {
        policy: &policy,
        today: &today,
        currency: page.entry.billing_currency().ok(),
    };
    let valid = match resource::validate(&Practitioner, new.resource(), &rules) {
        Ok(v) => v,
        Err(Invalid::Issues(issues)) => {
            // The form builds a resource the structure accepts; what is left are the
            // policy's rules, shown as one message (the diagnostics are not localized).
            page.ctx.host.log(
                crate::host::LogLevel::Warn,
                &format!("admin: practitioner refused: {issues:?}"),
            );
            let alert = page.t("admin-practitioner-refused");
            return render(
                page,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                &FieldErrors::default(),
                Some(alert),
            )
            .await;
        }
        Err(Invalid::NotAResource) => {
            return Err(PageError::Internal("the form built no resource".into()));
        }
    };
    let answer = page
        .write(vec![resource::create_call(&Practitioner, valid)])
        .await?;
    let id = rows(&answer, 0)?
        .first()
        .and_then(|r| r.get("id"))
        .and_then(Value::as_str)
        .and_then(parse_uuid)
        .ok_or_else(|| PageError::Internal("practitioner.create: no id".into()))?;
    // Next step for a new practitioner: their availability.
    Ok(page.redirect(&format!("/admin/practitioners/{id}/availability?added=1")))
}

/// `POST /admin/practitioners/{id}/active` with `active=true|false`.
pub async fn set_active<H: Host>(
    page: &mut Page<'_, '_, H>,
    id: &str,
) -> Result<Response<Vec<u8>>, PageError> {
    let id = parse_uuid(id).ok_or(PageError::NotFound)?;
    let form = page.posted()?;
    let active = match form.get("active") {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(PageError::BadRequest),
    };
    let answer = page
        .write(vec![Call {
            name: SET_ACTIVE.into(),
            params: vec![json!(id), json!(active)],
        }])
        .await?;
    if rows(&answer, 0)?.is_empty() {
        return Err(PageError::NotFound);
    }
    Ok(page.redirect("/admin/practitioners"))
}

/// The list and the add form, with what was typed and its faults.
async fn render<H: Host>(
    page: &mut Page<'_, '_, H>,
    status: StatusCode,
    form: &Form,
    errors: &FieldErrors,
    alert: Option<String>,
) -> Result<Response<Vec<u8>>, PageError> {
    let answer = page
        .read(vec![Call {
            name: PRACTITIONERS.into(),
            params: vec![json!(LIST_LIMIT)],
        }])
        .await?;
    let list = rows(&answer, 0)?;
    let mut table = String::new();
    if list.is_empty() {
        table = format!("<p>{}</p>", page.t("admin-practitioners-empty"));
    } else {
        table.push_str(&format!(
            r#"<table><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>"#,
            page.t("admin-col-name"),
            page.t("admin-col-qualification"),
            page.t("admin-col-status"),
            page.t("admin-col-slots"),
            page.t("admin-col-actions"),
        ));
        for row in list {
            let Some(id) = row.get("id").and_then(Value::as_str) else {
                continue;
            };
            let text = |k: &str| row.get(k).and_then(Value::as_str).unwrap_or("");
            let name = [text("given"), text("family")]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let active = row.get("active").and_then(Value::as_bool).unwrap_or(true);
            let (status, button, next) = if active {
                ("admin-status-active", "admin-deactivate", "false")
            } else {
                ("admin-status-inactive", "admin-reactivate", "true")
            };
            let id = escape(id);
            table.push_str(&format!(
                r#"<tr><th scope="row">{name}</th><td>{qualification}</td><td>{status}</td><td>{slots}</td><td><a href="/admin/practitioners/{id}/availability">{availability}</a> <form method="post" action="/admin/practitioners/{id}/active" style="display:inline">{hidden}<input type="hidden" name="active" value="{next}"><button type="submit" class="secondary">{button}</button></form></td></tr>"#,
                name = escape(&name),
                qualification = escape(text("qualification")),
                status = page.t(status),
                slots = int(row, "free_slots"),
                availability = page.t("admin-availability-link"),
                hidden = page.hidden(true),
                button = page.t(button),
            ));
        }
        table.push_str("</tbody></table>");
    }
    let (given_l, family_l, qualification_l) = (
        page.text("admin-given"),
        page.text("admin-family"),
        page.text("admin-qualification"),
    );
    let field = |name: &'static str, label: &str, required: bool, autocomplete| {
        Field {
            name,
            label,
            kind: "text",
            value: form.get(name),
            required,
            autocomplete,
        }
        .html(errors)
    };
    // A fresh form is for an active practitioner; a re-shown one keeps the choice.
    let checked = if form == &Form::default() || form.get("active").is_some() {
        " checked"
    } else {
        ""
    };
    let alert = alert
        .map(|a| format!(r#"<p class="alert" role="alert">{a}</p>"#))
        .unwrap_or_default();
    let title = page.t("admin-practitioners-title");
    let body = format!(
        r#"<main>
{back}
<h1>{title}</h1>
{table}
<h2 id="add">{add}</h2>
{alert}
<form method="post" action="/admin/practitioners" novalidate aria-labelledby="add">
{hidden}
{given}
{family}
{qualification}
<div class="field"><label><input type="checkbox" name="active" value="true"{checked}> {active}</label></div>
<button type="submit">{submit}</button>
</form>
</main>"#,
        back = super::back(page, "/admin", "admin-back"),
        add = page.t("admin-add-title"),
        hidden = page.hidden(true),
        given = field("given", &given_l, false, Some("off")),
        family = field("family", &family_l, true, Some("off")),
        qualification = field("qualification", &qualification_l, false, Some("off")),
        active = page.t("admin-active"),
        submit = page.t("admin-add-submit"),
    );
    Ok(page.render(status, &title, &body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resource::TEST_RULES;

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form::from_pairs(pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())))
    }

    #[test]
    fn the_form_becomes_a_practitioner_the_api_accepts() {
        let n = NewPractitioner::parse(&form(&[
            ("given", " Claire  Anne "),
            ("family", "Durand"),
            ("qualification", "Médecin généraliste"),
            ("active", "true"),
        ]))
        .unwrap();
        let r = n.resource();
        assert_eq!(r["name"][0]["given"], json!(["Claire", "Anne"]));
        let valid = resource::validate(&Practitioner, r, &TEST_RULES).unwrap();
        assert_eq!(valid.columns[0], json!("Durand"));
        assert_eq!(valid.columns[2], json!(true));
        let call = resource::create_call(&Practitioner, valid);
        assert_eq!(call.name, "practitioner.create");
        assert_eq!(call.params.len(), 5);
    }

    #[test]
    fn faults_are_named_by_field() {
        assert_eq!(
            NewPractitioner::parse(&form(&[("given", "Claire")])),
            Err(vec![("family", "admin-family-missing")])
        );
        let long = "x".repeat(MAX_TEXT + 1);
        assert_eq!(
            NewPractitioner::parse(&form(&[("family", "D"), ("qualification", &long)])),
            Err(vec![("qualification", "admin-too-long")])
        );
        let n = NewPractitioner::parse(&form(&[("family", "D")])).unwrap();
        assert!(!n.active);
        assert!(n.resource().get("qualification").is_none());
    }
}
