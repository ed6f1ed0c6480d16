//! The operators' console on the apex host: `/ops/sign-in`, `/ops/tenants` (every clinic
//! with its status, plan, home region and domains) and `/ops/tenants/<slug>` (its forms:
//! plan, suspend and resume with a confirmation, domains with the TXT record to publish,
//! delete with the slug typed again). Localized like every page (`locales/<tag>/ops.ftl`,
//! Arabic right to left), never cached (`no-store`), forms CSRF-checked
//! ([`crate::web::form`]): the session's secret, or before sign-in a double-submit cookie.
//!
//! A page costs one region call at most: a post changes, then redirects (303) to the
//! clinic's page, whose GET is its own request.

use http::{Method, Request, Response, StatusCode, header::HeaderValue};

use super::{
    token::{self, Kind, Operator},
    wire::{ClinicView, OperatorSignIn, OpsAnswer, OpsRefusal, OpsRequest, OpsResult, PLANS},
};
use crate::{
    accounts::{Password, normalize_email},
    cache,
    ctx::Ctx,
    dataplane::{client::DataError, wire::SignInRequest},
    host::{Host, LogLevel},
    i18n::{
        Arg,
        locale::{Locale, negotiate},
        message,
    },
    web::{
        form::{self, Field, FieldErrors, Form},
        layout::{self, ErrorPage, error_response, escape, html_response},
    },
};

/// The double-submit cookie of the sign-in form (no session yet).
const CSRF_COOKIE: &str = "ops_csrf";

/// The notices a post's redirect may show (`?notice=…`): a closed set, never free text.
const NOTICES: &[&str] = &[
    "updated",
    "suspended",
    "resumed",
    "domain-added",
    "domain-verified",
    "domain-removed",
    "unchanged",
];

struct Console<'p, 'a, H: Host> {
    ctx: &'p mut Ctx<'a, H>,
    req: &'p Request<Vec<u8>>,
    locale: Locale,
    operator: Option<Operator>,
    cookies: Vec<String>,
}

impl<H: Host> Console<'_, '_, H> {
    fn t(&self, id: &str) -> String {
        layout::t(self.locale, id)
    }

    fn text(&self, id: &str) -> String {
        message(self.locale, id, &[])
    }

    fn tr(&self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        escape(&message(self.locale, id, args))
    }

    fn hidden(&self) -> String {
        let csrf = self
            .operator
            .as_ref()
            .and_then(|o| o.csrf.clone())
            .unwrap_or_default();
        form::hidden(&csrf, None)
    }

    fn bar(&self) -> String {
        match &self.operator {
            Some(o) => format!(
                r#"<div class="bar"><a href="/ops/tenants">{title}</a><div><span>{who}</span> <form method="post" action="/ops/sign-out">{hidden}<button class="link" type="submit">{out}</button></form></div></div>"#,
                title = self.t("ops-tenants-title"),
                who = self.tr("ops-signed-in-as", &[("name", Arg::Str(&o.name))]),
                hidden = self.hidden(),
                out = self.t("ops-sign-out"),
            ),
            None => String::new(),
        }
    }

    /// A page; `title` is HTML (escaped), as `body` is.
    fn render(&self, status: StatusCode, title: &str, body: &str) -> Response<Vec<u8>> {
        let html = layout::document_with(self.locale, title, &self.bar(), body);
        let mut r = html_response(status, self.locale, cache::NO_STORE, html);
        // The console is never framed, indexed or stored.
        r.headers_mut()
            .insert("x-robots-tag", HeaderValue::from_static("noindex"));
        r
    }

    fn redirect(&self, location: &str) -> Response<Vec<u8>> {
        let mut r = Response::new(Vec::new());
        *r.status_mut() = StatusCode::SEE_OTHER;
        r.headers_mut().insert(
            "location",
            HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/ops/tenants")),
        );
        r
    }

    /// A refusal of the region, in the operator's language, with the region's detail.
    fn refused(&mut self, r: &OpsRefusal, back: Option<&str>) -> Response<Vec<u8>> {
        let key = format!("ops-error-{}", r.code.replace('_', "-"));
        let localized = message(self.locale, &key, &[]);
        let text = if localized == key {
            self.text("ops-error-generic")
        } else {
            localized
        };
        if r.status == 401 || r.status == 403 {
            // A disabled operator: the session ends here.
            self.cookies.push(token::clear_cookie());
        }
        let back = back.map_or(String::new(), |b| {
            format!(
                r#"<p><a href="{}">{}</a></p>"#,
                escape(b),
                self.t("ops-back")
            )
        });
        let body = format!(
            r#"<main><h1>{title}</h1><p class="alert" role="alert">{text}</p><p>{detail}</p>{back}</main>"#,
            title = self.t("ops-error-title"),
            text = escape(&text),
            detail = escape(&r.detail),
        );
        let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST);
        self.render(status, &self.t("ops-error-title"), &body)
    }

    fn fault(&self, e: &DataError) -> Response<Vec<u8>> {
        if !e.code().retryable() {
            self.ctx
                .host
                .log(LogLevel::Error, &format!("operator console: {e}"));
            return error_response(ErrorPage::Internal, self.locale);
        }
        error_response(ErrorPage::Unavailable, self.locale)
    }

    async fn call(&mut self, request: &OpsRequest) -> Result<OpsResult, Response<Vec<u8>>> {
        let email = self
            .operator
            .as_ref()
            .map(|o| o.email.clone())
            .unwrap_or_default();
        match self.ctx.region.ops(&email, request).await {
            Ok(OpsAnswer::Ok(r)) => Ok(*r),
            Ok(OpsAnswer::Refused(r)) => {
                let back = match request {
                    OpsRequest::List { .. } => None,
                    OpsRequest::Show { .. } => Some("/ops/tenants".to_owned()),
                    other => slug_of(other).map(|s| format!("/ops/tenants/{s}")),
                };
                Err(self.refused(&r, back.as_deref()))
            }
            Err(e) => Err(self.fault(&e)),
        }
    }
}

fn slug_of(r: &OpsRequest) -> Option<&str> {
    match r {
        OpsRequest::Show { slug }
        | OpsRequest::Update { slug, .. }
        | OpsRequest::Suspend { slug }
        | OpsRequest::Resume { slug }
        | OpsRequest::DomainAdd { slug, .. }
        | OpsRequest::DomainVerify { slug, .. }
        | OpsRequest::DomainRemove { slug, .. }
        | OpsRequest::Delete { slug, .. }
        | OpsRequest::Create { slug, .. } => Some(slug),
        OpsRequest::List { .. } => None,
    }
}

fn query(req: &Request<Vec<u8>>, name: &str) -> Option<String> {
    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Serves the console's paths (`/ops`, `/ops/…` but `/ops/v1/…`).
pub async fn handle<H: Host>(ctx: &mut Ctx<'_, H>, req: &Request<Vec<u8>>) -> Response<Vec<u8>> {
    let (locale, _) = negotiate(
        query(req, "locale").as_deref(),
        form::cookie(req, "locale"),
        req.headers()
            .get("accept-language")
            .and_then(|v| v.to_str().ok()),
        None,
    );
    if ![Method::GET, Method::HEAD, Method::POST].contains(req.method()) {
        return error_response(ErrorPage::MethodNotAllowed, locale);
    }
    let operator = form::cookie(req, token::SESSION_COOKIE)
        .and_then(|t| token::verify(&ctx.config.edge_key, Kind::Session, t, ctx.now_secs()).ok());
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let segments: Vec<String> = path
        .trim_start_matches("/ops")
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let mut c = Console {
        ctx,
        req,
        locale,
        operator,
        cookies: Vec::new(),
    };
    let post = req.method() == Method::POST;
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let mut response = match segs.as_slice() {
        ["sign-in"] => sign_in(&mut c).await,
        ["sign-out"] if post => match checked_form(&c) {
            Ok(_) => {
                c.cookies.push(token::clear_cookie());
                c.redirect("/ops/sign-in")
            }
            Err(r) => *r,
        },
        [] | ["tenants"] | ["tenants", _] | ["tenants", _, _] if c.operator.is_none() => {
            c.redirect("/ops/sign-in")
        }
        [] => c.redirect("/ops/tenants"),
        ["tenants"] if !post => list(&mut c).await,
        ["tenants", slug] if !post => show(&mut c, slug).await,
        ["tenants", slug, action] if post => act(&mut c, slug, action).await,
        ["tenants", ..] => error_response(ErrorPage::MethodNotAllowed, locale),
        _ => error_response(ErrorPage::NotFound, locale),
    };
    let h = response.headers_mut();
    h.insert("cache-control", HeaderValue::from_static(cache::NO_STORE));
    for cookie in &c.cookies {
        if let Ok(v) = HeaderValue::from_str(cookie) {
            h.append("set-cookie", v);
        }
    }
    response
}

/// The posted form, if it is one, from this site, with the session's CSRF secret.
fn checked_form<H: Host>(c: &Console<'_, '_, H>) -> Result<Form, Box<Response<Vec<u8>>>> {
    let form = Form::parse(c.req)
        .map_err(|_| Box::new(error_response(ErrorPage::BadRequest, c.locale)))?;
    let secret = c
        .operator
        .as_ref()
        .and_then(|o| o.csrf.clone())
        .unwrap_or_default();
    if form::cross_site(c.req) || !form.csrf_matches(&secret) {
        return Err(Box::new(error_response(ErrorPage::Expired, c.locale)));
    }
    Ok(form)
}

async fn sign_in<H: Host>(c: &mut Console<'_, '_, H>) -> Response<Vec<u8>> {
    // The double-submit secret of a visitor without a session.
    let csrf = match form::cookie(c.req, CSRF_COOKIE) {
        Some(v)
            if v.len() >= 16
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            v.to_owned()
        }
        _ => {
            let fresh = form::random_token(|b| c.ctx.host.fill_random(b));
            c.cookies.push(format!(
                "{CSRF_COOKIE}={fresh}; Path=/ops; HttpOnly; Secure; SameSite=Strict"
            ));
            fresh
        }
    };
    if c.req.method() != Method::POST {
        return sign_in_page(c, &csrf, StatusCode::OK, None, None);
    }
    let form = match Form::parse(c.req) {
        Ok(f) => f,
        Err(_) => return error_response(ErrorPage::BadRequest, c.locale),
    };
    if form::cross_site(c.req) || !form.csrf_matches(&csrf) {
        return error_response(ErrorPage::Expired, c.locale);
    }
    let email = form.get("email").unwrap_or_default().to_owned();
    let refused = c.text("ops-sign-in-refused");
    let (Some(normalized), Some(password)) = (normalize_email(&email), form.raw("password")) else {
        return sign_in_page(
            c,
            &csrf,
            StatusCode::UNAUTHORIZED,
            Some(&email),
            Some(refused),
        );
    };
    let request = SignInRequest {
        email: normalized,
        password: Password::new(password),
        client: super::client_address(c.req),
    };
    match c.ctx.region.ops_sign_in(&request).await {
        Ok(OperatorSignIn::SignedIn(who)) => {
            let operator = Operator {
                email: who.email,
                name: who.name,
                csrf: Some(form::random_token(|b| c.ctx.host.fill_random(b))),
            };
            match token::sign(
                &c.ctx.config.edge_key,
                Kind::Session,
                &operator,
                c.ctx.now_secs(),
            ) {
                Ok(t) => {
                    c.cookies.push(token::set_cookie(&t));
                    c.redirect("/ops/tenants")
                }
                Err(e) => {
                    c.ctx.host.log(
                        LogLevel::Error,
                        &format!("signing an operator session: {e}"),
                    );
                    error_response(ErrorPage::Internal, c.locale)
                }
            }
        }
        Ok(OperatorSignIn::Refused { retry_after_secs }) => {
            let alert = match retry_after_secs {
                Some(s) => message(
                    c.locale,
                    "ops-sign-in-locked",
                    &[(
                        "minutes",
                        Arg::Num(i64::try_from(s.div_ceil(60)).unwrap_or(15)),
                    )],
                ),
                None => refused,
            };
            let status = if retry_after_secs.is_some() {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNAUTHORIZED
            };
            sign_in_page(c, &csrf, status, Some(&email), Some(alert))
        }
        Err(e) => c.fault(&e),
    }
}

fn sign_in_page<H: Host>(
    c: &Console<'_, '_, H>,
    csrf: &str,
    status: StatusCode,
    email: Option<&str>,
    alert: Option<String>,
) -> Response<Vec<u8>> {
    let none = FieldErrors::default();
    let email_label = c.text("ops-email");
    let password_label = c.text("ops-password");
    let fields = [
        Field {
            name: "email",
            label: &email_label,
            kind: "email",
            value: email,
            required: true,
            autocomplete: Some("username"),
        },
        Field {
            name: "password",
            label: &password_label,
            kind: "password",
            value: None,
            required: true,
            autocomplete: Some("current-password"),
        },
    ];
    let alert = alert.map_or(String::new(), |a| {
        format!(r#"<p class="alert" role="alert">{}</p>"#, escape(&a))
    });
    let body = format!(
        r#"<main><h1>{title}</h1><p>{intro}</p>{alert}<form method="post" action="/ops/sign-in">{hidden}{fields}<button type="submit">{submit}</button></form></main>"#,
        title = c.t("ops-sign-in-title"),
        intro = c.t("ops-sign-in-intro"),
        hidden = form::hidden(csrf, None),
        fields = fields.iter().map(|f| f.html(&none)).collect::<String>(),
        submit = c.t("ops-sign-in-submit"),
    );
    c.render(status, &c.t("ops-sign-in-title"), &body)
}

fn status_label<H: Host>(c: &Console<'_, '_, H>, status: &str) -> String {
    match status {
        "active" => c.t("ops-status-active"),
        "suspended" => c.t("ops-status-suspended"),
        other => escape(other),
    }
}

fn domains_cell(clinic: &ClinicView, pending: &str) -> String {
    clinic
        .domains
        .iter()
        .map(|d| {
            if d.verified {
                escape(&d.domain)
            } else {
                format!("{} ({pending})", escape(&d.domain))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn list<H: Host>(c: &mut Console<'_, '_, H>) -> Response<Vec<u8>> {
    let status = query(c.req, "status").filter(|s| s == "active" || s == "suspended");
    let after = query(c.req, "after");
    let request = OpsRequest::List {
        status: status.clone(),
        after,
        limit: None,
    };
    let (clinics, next) = match c.call(&request).await {
        Ok(OpsResult::Clinics { clinics, next }) => (clinics, next),
        Ok(_) => return error_response(ErrorPage::Internal, c.locale),
        Err(r) => return r,
    };
    let pending = c.t("ops-domain-pending");
    let rows: String = clinics
        .iter()
        .map(|cl| {
            format!(
                r#"<tr><td><a href="/ops/tenants/{slug}">{slug}</a></td><td>{name}</td><td>{status}</td><td>{plan}</td><td>{region}</td><td>{domains}</td></tr>"#,
                slug = escape(&cl.slug),
                name = escape(&cl.name),
                status = status_label(c, &cl.status),
                plan = escape(&cl.plan),
                region = escape(&cl.home_region),
                domains = domains_cell(cl, &pending),
            )
        })
        .collect();
    let table = if clinics.is_empty() {
        format!("<p>{}</p>", c.t("ops-tenants-empty"))
    } else {
        format!(
            r#"<table><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>{rows}</tbody></table>"#,
            c.t("ops-col-slug"),
            c.t("ops-col-name"),
            c.t("ops-col-status"),
            c.t("ops-col-plan"),
            c.t("ops-col-region"),
            c.t("ops-col-domains"),
        )
    };
    let option = |value: &str, label: String| {
        let selected = if status.as_deref() == Some(value) || (value.is_empty() && status.is_none())
        {
            " selected"
        } else {
            ""
        };
        format!(r#"<option value="{value}"{selected}>{label}</option>"#)
    };
    let filter = format!(
        r#"<form method="get" action="/ops/tenants"><div class="field"><label for="f-status">{label}</label><select id="f-status" name="status">{all}{active}{suspended}</select></div><button type="submit" class="secondary">{submit}</button></form>"#,
        label = c.t("ops-filter-status"),
        all = option("", c.t("ops-filter-all")),
        active = option("active", c.t("ops-status-active")),
        suspended = option("suspended", c.t("ops-status-suspended")),
        submit = c.t("ops-filter-submit"),
    );
    let more = next.map_or(String::new(), |n| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("after", &n);
        if let Some(s) = &status {
            q.append_pair("status", s);
        }
        format!(
            r#"<p><a href="/ops/tenants?{}">{}</a></p>"#,
            escape(&q.finish()),
            c.t("ops-next-page")
        )
    });
    let body = format!(
        r#"<main><h1>{title}</h1>{filter}{table}{more}</main>"#,
        title = c.t("ops-tenants-title"),
    );
    c.render(StatusCode::OK, &c.t("ops-tenants-title"), &body)
}

async fn show<H: Host>(c: &mut Console<'_, '_, H>, slug: &str) -> Response<Vec<u8>> {
    let clinic = match c
        .call(&OpsRequest::Show {
            slug: slug.to_owned(),
        })
        .await
    {
        Ok(OpsResult::Clinic { clinic, .. }) => clinic,
        Ok(_) => return error_response(ErrorPage::Internal, c.locale),
        Err(r) => return r,
    };
    let notice = query(c.req, "notice")
        .filter(|n| NOTICES.contains(&n.as_str()))
        .map_or(String::new(), |n| {
            format!(
                r#"<p class="notice" role="status">{}</p>"#,
                c.t(&format!("ops-notice-{n}"))
            )
        });
    let action = |a: &str| format!("/ops/tenants/{}/{a}", escape(&clinic.slug));
    let hidden = c.hidden();
    let facts = format!(
        r#"<dl><dt>{l_status}</dt><dd>{status}</dd><dt>{l_plan}</dt><dd>{plan}</dd><dt>{l_region}</dt><dd>{region}</dd><dt>{l_country}</dt><dd>{country}</dd><dt>{l_locale}</dt><dd>{locale}</dd><dt>{l_created}</dt><dd>{created}</dd></dl>"#,
        l_status = c.t("ops-col-status"),
        status = status_label(c, &clinic.status),
        l_plan = c.t("ops-col-plan"),
        plan = escape(&clinic.plan),
        l_region = c.t("ops-col-region"),
        region = escape(&clinic.home_region),
        l_country = c.t("ops-col-country"),
        country = escape(&clinic.country),
        l_locale = c.t("ops-col-locale"),
        locale = escape(&clinic.default_locale),
        l_created = c.t("ops-col-created"),
        created = escape(&clinic.created_at),
    );
    let plans: String = PLANS
        .iter()
        .map(|p| {
            let selected = if *p == clinic.plan { " selected" } else { "" };
            format!(r#"<option value="{p}"{selected}>{p}</option>"#)
        })
        .collect();
    let plan_form = format!(
        r#"<section><h2>{title}</h2><form method="post" action="{to}">{hidden}<div class="field"><label for="f-plan">{label}</label><select id="f-plan" name="plan">{plans}</select></div><button type="submit">{submit}</button></form></section>"#,
        title = c.t("ops-plan-title"),
        to = action("plan"),
        label = c.t("ops-col-plan"),
        submit = c.t("ops-plan-submit"),
    );
    let (verb, confirm, submit) = if clinic.status == "suspended" {
        ("resume", "ops-resume-confirm", "ops-resume-submit")
    } else {
        ("suspend", "ops-suspend-confirm", "ops-suspend-submit")
    };
    let status_form = format!(
        r#"<section><h2>{title}</h2><form method="post" action="{to}">{hidden}<div class="field"><label><input type="checkbox" name="confirm" value="yes" required> {confirm}</label></div><button type="submit">{submit}</button></form></section>"#,
        title = c.t(&format!("ops-{verb}-title")),
        to = action(verb),
        confirm = c.tr(confirm, &[("slug", Arg::Str(&clinic.slug))]),
        submit = c.t(submit),
    );
    let domain_rows: String = clinic
        .domains
        .iter()
        .map(|d| {
            let state = if d.verified {
                c.t("ops-domain-verified")
            } else {
                c.t("ops-domain-pending")
            };
            let record = d.challenge.as_ref().map_or(String::new(), |ch| {
                format!(
                    r#"<p>{publish}</p><pre dir="ltr"><code>{name} {kind} "{value}"</code></pre><form method="post" action="{to}">{hidden}<input type="hidden" name="domain" value="{domain}"><button type="submit">{verify}</button></form>"#,
                    publish = c.t("ops-domain-publish"),
                    name = escape(&ch.name),
                    kind = escape(&ch.kind),
                    value = escape(&ch.value),
                    to = action("domain-verify"),
                    domain = escape(&d.domain),
                    verify = c.t("ops-domain-verify-submit"),
                )
            });
            format!(
                r#"<li><span dir="ltr">{domain}</span> — {state}{record}<form method="post" action="{to}">{hidden}<input type="hidden" name="domain" value="{domain}"><button type="submit" class="secondary">{remove}</button></form></li>"#,
                domain = escape(&d.domain),
                to = action("domain-remove"),
                remove = c.t("ops-domain-remove-submit"),
            )
        })
        .collect();
    let domain_label = c.text("ops-domain-label");
    let domain_field = Field {
        name: "domain",
        label: &domain_label,
        kind: "text",
        value: None,
        required: true,
        autocomplete: Some("off"),
    };
    let domains = format!(
        r#"<section><h2>{title}</h2><ul>{domain_rows}</ul><form method="post" action="{to}">{hidden}{field}<button type="submit">{submit}</button></form></section>"#,
        title = c.t("ops-domains-title"),
        to = action("domain-add"),
        field = domain_field.html(&FieldErrors::default()),
        submit = c.t("ops-domain-add-submit"),
    );
    let confirm_label = message(
        c.locale,
        "ops-delete-confirm-label",
        &[("slug", Arg::Str(&clinic.slug))],
    );
    let confirm_field = Field {
        name: "confirm",
        label: &confirm_label,
        kind: "text",
        value: None,
        required: true,
        autocomplete: Some("off"),
    };
    let delete = format!(
        r#"<section><h2>{title}</h2><p>{warning}</p><form method="post" action="{to}">{hidden}{field}<button type="submit">{submit}</button></form></section>"#,
        title = c.t("ops-delete-title"),
        warning = c.t("ops-delete-warning"),
        to = action("delete"),
        field = confirm_field.html(&FieldErrors::default()),
        submit = c.t("ops-delete-submit"),
    );
    let body = format!(
        r#"<main><p><a href="/ops/tenants">{back}</a></p><h1>{title}</h1>{notice}{facts}{plan_form}{status_form}{domains}{delete}</main>"#,
        back = c.t("ops-back"),
        title = c.tr(
            "ops-tenant-title",
            &[
                ("name", Arg::Str(&clinic.name)),
                ("slug", Arg::Str(&clinic.slug))
            ]
        ),
    );
    let title = c.tr(
        "ops-tenant-title",
        &[
            ("name", Arg::Str(&clinic.name)),
            ("slug", Arg::Str(&clinic.slug)),
        ],
    );
    c.render(StatusCode::OK, &title, &body)
}

async fn act<H: Host>(c: &mut Console<'_, '_, H>, slug: &str, action: &str) -> Response<Vec<u8>> {
    let form = match checked_form(c) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let slug = slug.to_owned();
    let confirmed = form.get("confirm") == Some("yes");
    let domain = form.get("domain").map(str::to_owned);
    let missing = |c: &mut Console<'_, '_, H>, code: &str| {
        let r = OpsRefusal::new(400, code, "");
        c.refused(&r, Some(&format!("/ops/tenants/{slug}")))
    };
    let apex = c.ctx.config.apex.as_str().to_owned();
    let (request, notice) = match action {
        "plan" => (
            OpsRequest::Update {
                slug: slug.clone(),
                plan: form.get("plan").map(str::to_owned),
                name: None,
            },
            "updated",
        ),
        "suspend" | "resume" if !confirmed => return missing(c, "confirmation_required"),
        "suspend" => (OpsRequest::Suspend { slug: slug.clone() }, "suspended"),
        "resume" => (OpsRequest::Resume { slug: slug.clone() }, "resumed"),
        "domain-add" | "domain-verify" | "domain-remove" if domain.is_none() => {
            return missing(c, "bad_domain");
        }
        "domain-add" => (
            OpsRequest::DomainAdd {
                slug: slug.clone(),
                domain: domain.unwrap_or_default(),
                apex,
            },
            "domain-added",
        ),
        "domain-verify" => (
            OpsRequest::DomainVerify {
                slug: slug.clone(),
                domain: domain.unwrap_or_default(),
            },
            "domain-verified",
        ),
        "domain-remove" => (
            OpsRequest::DomainRemove {
                slug: slug.clone(),
                domain: domain.unwrap_or_default(),
            },
            "domain-removed",
        ),
        "delete" => (
            OpsRequest::Delete {
                slug: slug.clone(),
                confirm: form.get("confirm").unwrap_or_default().to_owned(),
            },
            "",
        ),
        _ => return error_response(ErrorPage::NotFound, c.locale),
    };
    match c.call(&request).await {
        Ok(OpsResult::Deleted {
            slug,
            export,
            home_region,
        }) => {
            let body = format!(
                r#"<main><h1>{title}</h1><p class="notice" role="status">{text}</p><p><a href="/ops/tenants">{back}</a></p></main>"#,
                title = c.t("ops-deleted-title"),
                text = c.tr(
                    "ops-deleted-body",
                    &[
                        ("slug", Arg::Str(&slug)),
                        ("region", Arg::Str(&home_region)),
                        ("directory", Arg::Str(&export.directory)),
                        (
                            "rows",
                            Arg::Num(i64::try_from(export.rows).unwrap_or(i64::MAX))
                        ),
                    ]
                ),
                back = c.t("ops-back"),
            );
            c.render(StatusCode::OK, &c.t("ops-deleted-title"), &body)
        }
        Ok(result) => {
            let changed = match &result {
                OpsResult::Clinic { changed, .. } | OpsResult::Domain { changed, .. } => *changed,
                _ => true,
            };
            let notice = if changed { notice } else { "unchanged" };
            c.redirect(&format!("/ops/tenants/{slug}?notice={notice}"))
        }
        Err(r) => r,
    }
}
