//! `/admin/prices`: one price per consultation type, in the clinic's billing currency.
//!
//! A price is a FHIR `ChargeItemDefinition` built from the form and checked by the API's
//! own validation (currency, minor units: XOF has none, positive), stored by the API's own
//! create statement. Changing a price retires the active one of that type and creates the
//! new one in the same write batch (the schema holds at most one active price per type);
//! retiring keeps the row, so invoices already issued keep pointing at what they charged.
//! Amounts are parsed exactly ([`parse_decimal`], never a float) and shown with
//! [`Money::format`] in the page's locale.

use http::{Method, Response, StatusCode};
use serde_json::{Value, json};

use super::{PRICE_RETIRE, PRICE_RETIRE_TYPE, availability::Fault, rows};
use crate::{
    api::{
        parse_uuid,
        resource::{self, Invalid, Rules},
        resources::charge_item_definition::{CONSULTATION_TYPE_SYSTEM, ChargeItemDefinition},
    },
    billing::{self, names::PRICES},
    compliance::policy_for,
    dataplane::wire::{Call, ErrorCode},
    fhir::datatypes::civil_date,
    host::Host,
    i18n::Arg,
    money::{Currency, Money, MoneyError, parse_decimal},
    web::{
        Page, PageError, escape,
        form::{Field, FieldErrors, Form},
    },
};

/// A price as the form gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NewPrice {
    pub code: String,
    pub display: String,
    pub amount: Money,
}

/// A consultation type's code: lower-case letters, digits and dashes (it is a URL part).
pub(super) fn valid_code(c: &str) -> bool {
    (1..=64).contains(&c.len())
        && c.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl NewPrice {
    /// Reads the form in `currency`: `(field, message id, numbers)` for each fault. A decimal
    /// comma is read as the point (`45,50`), grouping is refused.
    pub fn parse(form: &Form, currency: Currency) -> Result<Self, Vec<Fault>> {
        let mut faults = Vec::new();
        let code = form.get("code").map(str::to_ascii_lowercase);
        if !code.as_deref().is_some_and(valid_code) {
            faults.push(Fault {
                field: "code",
                id: "admin-price-code-invalid",
                args: vec![],
            });
        }
        let display = form.get("display").map(str::to_owned);
        match &display {
            None => faults.push(Fault {
                field: "display",
                id: "admin-price-display-missing",
                args: vec![],
            }),
            Some(d) if d.chars().count() > 200 => faults.push(Fault {
                field: "display",
                id: "admin-too-long",
                args: vec![],
            }),
            _ => {}
        }
        let amount = form.get("amount").map(|a| {
            if a.contains('.') {
                a.to_owned()
            } else {
                a.replacen(',', ".", 1)
            }
        });
        let money = match amount.as_deref().map(parse_decimal) {
            None | Some(Err(_)) => {
                faults.push(Fault {
                    field: "amount",
                    id: "admin-price-amount-invalid",
                    args: vec![],
                });
                None
            }
            Some(Ok(d)) => match Money::new(d, currency) {
                Err(MoneyError::TooPrecise { minor_units, .. }) => {
                    faults.push(Fault {
                        field: "amount",
                        id: "admin-price-too-precise",
                        args: vec![("decimals", i64::from(minor_units))],
                    });
                    None
                }
                Err(_) => {
                    faults.push(Fault {
                        field: "amount",
                        id: "admin-price-amount-invalid",
                        args: vec![],
                    });
                    None
                }
                Ok(m) if m.is_zero() || m.is_negative() => {
                    faults.push(Fault {
                        field: "amount",
                        id: "admin-price-not-positive",
                        args: vec![],
                    });
                    None
                }
                Ok(m) => Some(m),
            },
        };
        match (code, display, money) {
            (Some(code), Some(display), Some(amount)) if faults.is_empty() => Ok(Self {
                code,
                display,
                amount,
            }),
            _ => Err(faults),
        }
    }

    /// The FHIR R4 ChargeItemDefinition: the type's coding, one base price. The amount is a
    /// JSON number spelled with the amount's exact digits.
    pub fn resource(&self) -> Value {
        let value: Value =
            serde_json::from_str(&self.amount.amount().to_string()).unwrap_or(Value::Null);
        json!({
            "resourceType": "ChargeItemDefinition",
            "url": format!("urn:telemed-edge:price:{}", self.code),
            "status": "active",
            "title": self.display,
            "code": {"coding": [{"system": CONSULTATION_TYPE_SYSTEM, "code": self.code, "display": self.display}]},
            "propertyGroup": [{"priceComponent": [{"type": "base",
                "amount": {"value": value, "currency": self.amount.currency().code()}}]}],
        })
    }
}

/// `/admin/prices`: GET the list and the form; POST sets a type's price.
pub async fn prices<H: Host>(page: &mut Page<'_, '_, H>) -> Result<Response<Vec<u8>>, PageError> {
    let currency = page
        .entry
        .billing_currency()
        .map_err(|e| PageError::Internal(format!("the clinic's currency: {e}")))?;
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
    let new = match NewPrice::parse(&form, currency) {
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
    let policy = policy_for(&page.entry.country);
    let today = civil_date(page.ctx.host.now_millis());
    let rules = Rules {
        policy: &policy,
        today: &today,
        currency: Some(currency),
    };
    let valid = match resource::validate(&ChargeItemDefinition, new.resource(), &rules) {
        Ok(v) => v,
        Err(Invalid::Issues(issues)) => {
            return Err(PageError::Internal(format!(
                "a price from the form: {issues:?}"
            )));
        }
        Err(Invalid::NotAResource) => return Err(PageError::Internal("no price".into())),
    };
    let token = format!("{CONSULTATION_TYPE_SYSTEM}|{}", new.code);
    let calls = vec![
        Call {
            name: PRICE_RETIRE_TYPE.into(),
            params: vec![json!(token)],
        },
        resource::create_call(&ChargeItemDefinition, valid),
    ];
    match page.write(calls).await {
        Ok(_) => Ok(page.redirect("/admin/prices")),
        // Another admin set this type's price at the same moment: shown, not an error page.
        Err(e) if e.code() == ErrorCode::Conflict => {
            let mut errors = FieldErrors::default();
            errors.add("code", page.text("admin-price-conflict"));
            render(page, StatusCode::CONFLICT, &form, &errors).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/prices/{id}/retire`.
pub async fn retire<H: Host>(
    page: &mut Page<'_, '_, H>,
    id: &str,
) -> Result<Response<Vec<u8>>, PageError> {
    let id = parse_uuid(id).ok_or(PageError::NotFound)?;
    page.posted()?;
    let answer = page
        .write(vec![Call {
            name: PRICE_RETIRE.into(),
            params: vec![json!(id)],
        }])
        .await?;
    if rows(&answer, 0)?.is_empty() {
        return Err(PageError::NotFound);
    }
    Ok(page.redirect("/admin/prices"))
}

async fn render<H: Host>(
    page: &mut Page<'_, '_, H>,
    status: StatusCode,
    form: &Form,
    errors: &FieldErrors,
) -> Result<Response<Vec<u8>>, PageError> {
    let answer = page
        .read(vec![Call {
            name: PRICES.into(),
            params: vec![json!("active")],
        }])
        .await?;
    let mut table = String::new();
    let list = rows(&answer, 0)?;
    if list.is_empty() {
        table = format!("<p>{}</p>", page.t("admin-prices-empty"));
    } else {
        table.push_str(&format!(
            r#"<table><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>"#,
            page.t("admin-price-col-type"),
            page.t("admin-price-col-code"),
            page.t("admin-price-col-amount"),
            page.t("admin-col-actions"),
        ));
        for row in list {
            let p = billing::price_from_row(row)
                .map_err(|e| PageError::Internal(format!("{PRICES}: {e}")))?;
            let amount = super::super::price::format(&p.amount, page.locale, &page.entry.country)
                .ok_or_else(|| PageError::Internal(format!("formatting {}", p.amount)))?;
            table.push_str(&format!(
                r#"<tr><th scope="row">{display}</th><td>{code}</td><td class="amount">{amount}</td><td><form method="post" action="/admin/prices/{id}/retire" style="display:inline">{hidden}<button type="submit" class="secondary">{retire}</button></form></td></tr>"#,
                display = escape(&p.display),
                code = escape(&p.code),
                amount = escape(&amount),
                id = escape(&p.id),
                hidden = page.hidden(true),
                retire = page.t("admin-price-retire"),
            ));
        }
        table.push_str("</tbody></table>");
    }
    let currency = page.entry.currency.clone();
    let (code_l, display_l, amount_l) = (
        page.text("admin-price-code"),
        page.text("admin-price-display"),
        message_text(page, "admin-price-amount", &currency),
    );
    let field = |name: &'static str, label: &str| {
        Field {
            name,
            label,
            kind: "text",
            value: form.get(name),
            required: true,
            autocomplete: Some("off"),
        }
        .html(errors)
    };
    let title = page.t("admin-prices-title");
    let body = format!(
        r#"<main>
{back}
<h1>{title}</h1>
{table}
<h2 id="set">{set}</h2>
<p>{help}</p>
<form method="post" action="/admin/prices" novalidate aria-labelledby="set">
{hidden}
{code}
{display}
{amount}
<button type="submit">{submit}</button>
</form>
</main>"#,
        back = super::back(page, "/admin", "admin-back"),
        set = page.t("admin-price-set-title"),
        help = page.t("admin-price-help"),
        hidden = page.hidden(true),
        code = field("code", &code_l),
        display = field("display", &display_l),
        amount = field("amount", &amount_l),
        submit = page.t("admin-price-submit"),
    );
    Ok(page.render(status, &title, &body))
}

fn message_text<H: Host>(page: &Page<'_, '_, H>, id: &str, currency: &str) -> String {
    crate::i18n::message(page.locale, id, &[("currency", Arg::Str(currency))])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resource::TEST_RULES;

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form::from_pairs(pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())))
    }

    #[test]
    fn a_price_is_read_exactly_in_the_clinics_currency() {
        let p = NewPrice::parse(
            &form(&[
                ("code", "Teleconsultation"),
                ("display", "Téléconsultation"),
                ("amount", "45,50"),
            ]),
            Currency::Eur,
        )
        .unwrap();
        assert_eq!(p.code, "teleconsultation");
        assert_eq!(p.amount.amount().to_string(), "45.50");
        let r = p.resource();
        assert_eq!(
            r["propertyGroup"][0]["priceComponent"][0]["amount"]["value"].to_string(),
            "45.50"
        );
        let rules = Rules {
            currency: Some(Currency::Eur),
            ..TEST_RULES
        };
        let v = resource::validate(&ChargeItemDefinition, r, &rules).unwrap();
        assert_eq!(
            v.columns[0],
            json!(format!("{CONSULTATION_TYPE_SYSTEM}|teleconsultation"))
        );
        let xof = NewPrice::parse(
            &form(&[
                ("code", "visite"),
                ("display", "Visite"),
                ("amount", "15000"),
            ]),
            Currency::Xof,
        )
        .unwrap();
        assert_eq!(
            xof.resource()["propertyGroup"][0]["priceComponent"][0]["amount"]["value"].to_string(),
            "15000"
        );
    }

    #[test]
    fn faults_are_named_by_field() {
        let faults = |pairs: &[(&str, &str)], c| {
            NewPrice::parse(&form(pairs), c)
                .unwrap_err()
                .into_iter()
                .map(|f| (f.field, f.id))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            faults(&[("code", "a b"), ("amount", "1e3")], Currency::Eur),
            [
                ("code", "admin-price-code-invalid"),
                ("display", "admin-price-display-missing"),
                ("amount", "admin-price-amount-invalid")
            ]
        );
        assert_eq!(
            faults(
                &[("code", "v"), ("display", "V"), ("amount", "10.5")],
                Currency::Xof
            ),
            [("amount", "admin-price-too-precise")]
        );
        assert_eq!(
            faults(
                &[("code", "v"), ("display", "V"), ("amount", "0")],
                Currency::Eur
            ),
            [("amount", "admin-price-not-positive")]
        );
        assert_eq!(
            faults(
                &[("code", "v"), ("display", "V"), ("amount", "1 000,00")],
                Currency::Eur
            ),
            [("amount", "admin-price-amount-invalid")]
        );
    }
}
