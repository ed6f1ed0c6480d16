//! `/sign-in` and `/sign-out`.
//!
//! The password goes to the clinic's home region, which checks it (argon2id) and throttles
//! attempts; the edge never hashes nor stores it. The answer to a wrong email, a wrong
//! password or a disabled account is one and the same message, so the form never tells
//! whether an account exists. A success opens a session ([`super::session`]).

use http::{Method, Response, StatusCode};

use super::{
    Page, PageError,
    form::{self, Field, FieldErrors},
    session::{self, Session},
    space_of,
};
use crate::{
    accounts::{MAX_PASSWORD_CHARS, Password, normalize_email},
    dataplane::wire::{SignInOutcome, SignInRequest},
    host::Host,
    i18n::Arg,
};

/// Where to go after signing in: a path of this site only (never `//evil.example`).
fn safe_next(next: Option<&str>) -> Option<&str> {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.starts_with("/\\")
            // Visible ASCII only: a location header can carry nothing else.
            && n.bytes().all(|b| b.is_ascii_graphic())
    })
}

pub async fn sign_in<H: Host>(page: &mut Page<'_, '_, H>) -> Result<Response<Vec<u8>>, PageError> {
    let query_next = form_urlencoded::parse(page.req.uri().query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned());
    if page.req.method() != Method::POST {
        if let Some(s) = &page.session {
            let to = safe_next(query_next.as_deref())
                .unwrap_or(space_of(s.role))
                .to_owned();
            return Ok(page.redirect(&to));
        }
        return Ok(form_page(
            page,
            StatusCode::OK,
            None,
            safe_next(query_next.as_deref()),
            &FieldErrors::default(),
            None,
        ));
    }
    let posted = page.posted()?.clone();
    let next = safe_next(posted.get("next")).map(str::to_owned);
    let email = posted.get("email").map(str::to_owned);
    let password = posted.raw("password").map(str::to_owned);
    let mut errors = FieldErrors::default();
    if email.is_none() {
        errors.add("email", page.t("sign-in-email-missing"));
    }
    if password.is_none() {
        errors.add("password", page.t("sign-in-password-missing"));
    }
    let (Some(email), Some(password)) = (email, password) else {
        return Ok(form_page(
            page,
            StatusCode::UNPROCESSABLE_ENTITY,
            posted.get("email"),
            next.as_deref(),
            &errors,
            None,
        ));
    };
    // Longer than any password an account can have: refused without a region call, with
    // the same answer as a wrong one.
    if password.chars().count() > MAX_PASSWORD_CHARS || email.len() > 320 {
        let alert = page.t("sign-in-refused");
        return Ok(form_page(
            page,
            StatusCode::UNAUTHORIZED,
            Some(&email),
            next.as_deref(),
            &errors,
            Some(alert),
        ));
    }
    // The address Cloudflare puts there (a client cannot forge it through Cloudflare);
    // elsewhere only a well-formed address is passed on, for the region's per-address
    // throttle. The per-email throttle does not depend on it.
    let client = page
        .req
        .headers()
        .get("cf-connecting-ip")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<std::net::IpAddr>().ok())
        .map(|ip| ip.to_string());
    // An address that cannot be anyone's is refused like a wrong one, without a call.
    let Some(normalized) = normalize_email(&email) else {
        let alert = page.t("sign-in-refused");
        return Ok(form_page(
            page,
            StatusCode::UNAUTHORIZED,
            Some(&email),
            next.as_deref(),
            &errors,
            Some(alert),
        ));
    };
    let request = SignInRequest {
        email: normalized,
        password: Password::new(password),
        client,
    };
    let outcome = page
        .ctx
        .region
        .sign_in(&page.entry.home_region, &page.entry.slug, &request)
        .await?;
    match outcome {
        SignInOutcome::SignedIn(account) => {
            let session = Session {
                tenant: page.entry.slug.clone(),
                region: page.entry.home_region.clone(),
                account: account.id,
                role: account.role,
                name: account.display_name,
                patient: account.patient_id,
                practitioner: account.practitioner_id,
                csrf: form::random_token(|b| page.ctx.host.fill_random(b)),
            };
            let token = page
                .ctx
                .config
                .session_keys
                .sign(&session, page.ctx.now_secs())
                .map_err(|e| PageError::Internal(format!("signing a session: {e}")))?;
            page.set_cookie(session::set_cookie(&token));
            let to = next.as_deref().unwrap_or(space_of(session.role)).to_owned();
            Ok(page.redirect(&to))
        }
        SignInOutcome::Refused { retry_after_secs } => {
            let (status, alert) = match retry_after_secs {
                Some(secs) => {
                    let minutes = i64::try_from(secs.div_ceil(60)).unwrap_or(i64::MAX);
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        page.tr("sign-in-locked", &[("minutes", Arg::Num(minutes))]),
                    )
                }
                None => (StatusCode::UNAUTHORIZED, page.t("sign-in-refused")),
            };
            let mut r = form_page(
                page,
                status,
                Some(&email),
                next.as_deref(),
                &errors,
                Some(alert),
            );
            if let Some(secs) = retry_after_secs
                && let Ok(v) = secs.to_string().parse()
            {
                r.headers_mut().insert("retry-after", v);
            }
            Ok(r)
        }
    }
}

/// The form, with what was typed (never the password) and the errors.
fn form_page<H: Host>(
    page: &Page<'_, '_, H>,
    status: StatusCode,
    email: Option<&str>,
    next: Option<&str>,
    errors: &FieldErrors,
    alert: Option<String>,
) -> Response<Vec<u8>> {
    let title = page.t("sign-in-title");
    let email_label = page.text("sign-in-email");
    let password_label = page.text("sign-in-password");
    let email = Field {
        name: "email",
        label: &email_label,
        kind: "email",
        value: email,
        required: true,
        autocomplete: Some("username"),
    };
    let password = Field {
        name: "password",
        label: &password_label,
        kind: "password",
        value: None,
        required: true,
        autocomplete: Some("current-password"),
    };
    let alert = alert
        .map(|a| format!(r#"<p class="alert" role="alert">{a}</p>"#))
        .unwrap_or_default();
    let next = next
        .map(|n| {
            format!(
                r#"<input type="hidden" name="next" value="{}">"#,
                super::escape(n)
            )
        })
        .unwrap_or_default();
    let body = format!(
        r#"<main>
<h1>{title}</h1>
{alert}
<form method="post" action="/sign-in" novalidate>
{hidden}{next}
{email}
{password}
<button type="submit">{submit}</button>
</form>
</main>"#,
        hidden = page.hidden(false),
        email = email.html(errors),
        password = password.html(errors),
        submit = page.t("sign-in-submit"),
    );
    page.render(status, &title, &body)
}

/// `POST /sign-out`: removes the session cookie (the post's CSRF token was checked).
pub fn sign_out<H: Host>(page: &mut Page<'_, '_, H>) -> Result<Response<Vec<u8>>, PageError> {
    page.posted()?;
    page.set_cookie(session::clear_cookie());
    Ok(page.redirect("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/patient")), Some("/patient"));
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "patient",
            "/a\r\nx",
            "/caf\u{e9}",
            "/a\u{1}b",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad}");
        }
    }
}
