//! Server-rendered pages, for browsers: they work without JavaScript, in the negotiated
//! locale (right-to-left for Arabic), and are accessible (labels, `lang`, focus order).
//!
//! Two kinds of page:
//! - **public** ([`Route::Home`], [`Route::Marketplace`]): the same for every visitor,
//!   cached at the edge per (clinic, path and the query parameters that change the page,
//!   locale); a fresh hit costs no region call at all;
//! - **dynamic** (every other route): forms and signed-in spaces. They are
//!   `private, no-store`, never enter the edge cache, and cost the directory look-up (edge
//!   cache, else one call to the nearest region) plus at most one batch to the clinic's home
//!   region.
//!
//! Adding a page: a module here, a variant of [`Route`] with its path in [`Route::parse`],
//! one arm in [`dispatch`], its messages in `locales/<tag>/<module>.ftl`, and its own
//! statements (if the resources' do not fit) in [`statements`].
//!
//! A dynamic page gets a [`Page`]: the clinic, the locale, the session (if a valid one for
//! this clinic came with the request), the posted form (already CSRF-checked: a page never
//! sees a forged post), and the means to call the region as the signed-in person.

mod admin;
mod booking;
pub mod chart;
pub mod form;
mod home;
pub mod ics;
pub mod layout;
pub mod marketplace;
pub mod price;
pub mod session;
mod sign_in;
mod spaces;
pub mod when;

use http::{Method, Request, Response, StatusCode, header::HeaderValue};

pub use self::layout::{ErrorPage, error_response, escape, html_response};
use self::{
    form::{CSRF_COOKIE, Form, FormError},
    session::Session,
};
use crate::{
    accounts::Role,
    api::{idempotency, lsn::ClientLsn},
    cache::{self, Freshness},
    ctx::Ctx,
    dataplane::{
        catalog::Statement,
        client::DataError,
        wire::{BatchRequest, BatchResponse, Call, ErrorCode},
    },
    host::{Background, Host, LogLevel},
    i18n::{
        Arg,
        locale::{Locale, LocaleSource, negotiate, negotiate_before_tenant},
        message,
    },
    tenant::{ResolveError, TenantEntry, TenantSelector, TenantStatus},
};

/// The pages, by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/`: the clinic's public home page.
    Home,
    /// `/marketplace`: the apps the clinic may install (public, cached).
    Marketplace,
    /// `/sign-in`: the form (GET) and its post.
    SignIn,
    /// `POST /sign-out`.
    SignOut,
    /// `/practitioners/{id}`: a practitioner and their next free slots.
    Practitioner(String),
    /// `/book/{slot}`: the booking form of a slot (GET) and its post.
    Book(String),
    /// `/patient/appointments/{id}`: a patient's appointment (the booking's confirmation).
    PatientAppointment(String),
    /// `/patient/appointments/{id}.ics`: that appointment as an iCalendar file.
    PatientAppointmentIcs(String),
    /// `/patient`: the patient's space.
    PatientSpace,
    /// `POST /patient/appointments/{id}/cancel`.
    PatientCancel(String),
    /// `/practitioner`: today's schedule.
    PractitionerSpace,
    /// `/practitioner/patients/{id}`: a patient's record.
    PractitionerPatient(String),
    /// `POST /practitioner/appointments/{id}/status`.
    AppointmentStatus(String),
    /// `/admin…`: the clinic admin's pages.
    Admin(admin::AdminRoute),
}

impl Route {
    /// The page at `path`, if there is one.
    pub fn parse(path: &str) -> Option<Self> {
        let segments: Vec<&str> = path
            .trim_start_matches('/')
            .trim_end_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        Some(match segments.as_slice() {
            [] => Self::Home,
            ["marketplace"] => Self::Marketplace,
            ["sign-in"] => Self::SignIn,
            ["sign-out"] => Self::SignOut,
            ["practitioners", id] => Self::Practitioner((*id).to_owned()),
            ["book", slot] => Self::Book((*slot).to_owned()),
            ["patient", "appointments", file] => match file.strip_suffix(".ics") {
                Some(id) => Self::PatientAppointmentIcs(id.to_owned()),
                None => Self::PatientAppointment((*file).to_owned()),
            },
            ["patient"] => Self::PatientSpace,
            ["patient", "appointments", id, "cancel"] => Self::PatientCancel((*id).to_owned()),
            ["practitioner"] => Self::PractitionerSpace,
            ["practitioner", "patients", id] => Self::PractitionerPatient((*id).to_owned()),
            ["practitioner", "appointments", id, "status"] => {
                Self::AppointmentStatus((*id).to_owned())
            }
            ["admin", rest @ ..] => Self::Admin(admin::AdminRoute::parse(rest)?),
            _ => return None,
        })
    }
}

/// The statements pages run beyond the resources' own (which pages reuse where they fit):
/// one line per page module that has any. Part of [`crate::dataplane::catalog::all`].
pub fn statements() -> Vec<Statement> {
    let mut all = Vec::new();
    all.extend(booking::statements());
    all.extend(spaces::statements());
    all.extend(admin::statements());
    all
}

/// Runs a dynamic page.
async fn dispatch<H: Host>(
    page: &mut Page<'_, '_, H>,
    route: Route,
) -> Result<Response<Vec<u8>>, PageError> {
    match route {
        // Served by `public_page`, never here.
        Route::Home | Route::Marketplace => Err(PageError::NotFound),
        Route::SignIn => sign_in::sign_in(page).await,
        Route::SignOut => sign_in::sign_out(page),
        Route::Practitioner(id) => booking::practitioner(page, &id).await,
        Route::Book(slot) => booking::book(page, &slot).await,
        Route::PatientAppointment(id) => booking::appointment(page, &id).await,
        Route::PatientAppointmentIcs(id) => booking::appointment_ics(page, &id).await,
        Route::PatientSpace => spaces::patient_home(page).await,
        Route::PatientCancel(id) => spaces::patient_cancel(page, &id).await,
        Route::PractitionerSpace => spaces::practitioner_home(page).await,
        Route::PractitionerPatient(id) => spaces::practitioner_patient(page, &id).await,
        Route::AppointmentStatus(id) => spaces::practitioner_status(page, &id).await,
        Route::Admin(r) => admin::handle(page, r).await,
    }
}

/// Why a dynamic page cannot be shown; each becomes a localized page (or a redirect).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("no such page")]
    NotFound,
    /// The page needs a session and there is none: to the sign-in form, and back after.
    #[error("sign-in needed")]
    SignIn,
    /// Signed in, but not as someone who may see this.
    #[error("not allowed")]
    Forbidden,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The post is not a form this page reads.
    #[error("malformed request")]
    BadRequest,
    /// The form's CSRF token is missing or stale (or it came from another site).
    #[error("expired form")]
    Expired,
    /// The region is unreachable or overloaded.
    #[error("unavailable")]
    Unavailable,
    /// A fault of ours, with what the log should say.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<DataError> for PageError {
    fn from(e: DataError) -> Self {
        if e.code().retryable() {
            Self::Unavailable
        } else if e.code() == ErrorCode::IdempotencyMismatch {
            // A form's key sent again with other fields: a stale or tampered form, the
            // visitor's to reload (nothing was written), never a fault of ours.
            Self::Expired
        } else {
            Self::Internal(e.to_string())
        }
    }
}

/// The cookie of a visitor's last write's WAL position: the next pages read at least that
/// far (read-your-writes across the region's lagging replica), for a minute.
const WRITE_POSITION_COOKIE: &str = "rw";

/// A dynamic page's request: who, where, in which language, with what form.
pub struct Page<'p, 'a, H: Host> {
    pub ctx: &'p mut Ctx<'a, H>,
    pub req: &'p Request<Vec<u8>>,
    pub entry: TenantEntry,
    pub locale: Locale,
    /// A valid session for this clinic, if one came with the request.
    pub session: Option<Session>,
    /// The posted form, CSRF-checked; `None` for a GET.
    pub form: Option<Form>,
    csrf: String,
    cookies: Vec<String>,
}

impl<H: Host> Page<'_, '_, H> {
    /// A message of the page's locale, escaped for HTML.
    pub fn t(&self, id: &str) -> String {
        layout::t(self.locale, id)
    }

    /// A message as text, not escaped: for [`form::Field`] labels, which escape it.
    pub fn text(&self, id: &str) -> String {
        message(self.locale, id, &[])
    }

    /// A message with arguments, escaped for HTML.
    pub fn tr(&self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        escape(&message(self.locale, id, args))
    }

    /// The session, if it is one of these roles; else sign in (none) or 403 (another role).
    pub fn require(&self, roles: &[Role]) -> Result<&Session, PageError> {
        match &self.session {
            None => Err(PageError::SignIn),
            Some(s) if roles.contains(&s.role) => Ok(s),
            Some(_) => Err(PageError::Forbidden),
        }
    }

    /// The posted form (a POST's page reads it; a GET has none: 405).
    pub fn posted(&self) -> Result<&Form, PageError> {
        self.form.as_ref().ok_or(PageError::MethodNotAllowed)
    }

    /// The hidden inputs of a form of this page: the CSRF token and, when `writes`, a fresh
    /// idempotency key.
    pub fn hidden(&self, writes: bool) -> String {
        let key = writes.then(|| form::random_token(|b| self.ctx.host.fill_random(b)));
        form::hidden(&self.csrf, key.as_deref())
    }

    /// Who the regions record as acting.
    pub fn actor(&self) -> String {
        self.session
            .as_ref()
            .map_or_else(|| "web/anonymous".to_owned(), Session::actor)
    }

    /// Adds a `Set-Cookie` to the response.
    pub fn set_cookie(&mut self, cookie: String) {
        self.cookies.push(cookie);
    }

    /// Reads: one batch to the clinic's home region, after the visitor's last write.
    pub async fn read(&mut self, statements: Vec<Call>) -> Result<BatchResponse, PageError> {
        let min_lsn = form::cookie(self.req, WRITE_POSITION_COOKIE)
            .and_then(ClientLsn::parse)
            .filter(|p| p.region == self.entry.home_region)
            .map(|p| p.lsn);
        let batch = BatchRequest {
            statements,
            want_directory: false,
            idempotency: None,
            min_lsn,
        };
        let actor = self.actor();
        Ok(self
            .ctx
            .region
            .batch(
                &self.entry.home_region,
                &self.entry.slug,
                Some(&actor),
                &batch,
            )
            .await?)
    }

    /// Writes: one batch, idempotent by the form's key (a double post writes once), sent
    /// once more if its answer was lost. The caller maps the region's refusals (a slot
    /// taken: `Conflict`) to what the visitor should read.
    pub async fn write(&mut self, statements: Vec<Call>) -> Result<BatchResponse, DataError> {
        let actor = self.actor();
        let client_key = self
            .form
            .as_ref()
            .and_then(|f| f.get(form::IDEMPOTENCY_FIELD))
            .map(|k| format!("web:{k}"));
        let batch = BatchRequest {
            statements,
            want_directory: false,
            idempotency: Some(idempotency::for_caller(
                self.ctx,
                self.req,
                &self.entry.slug,
                &actor,
                client_key.as_deref(),
            )),
            min_lsn: None,
        };
        let send = || {
            self.ctx.region.batch(
                &self.entry.home_region,
                &self.entry.slug,
                Some(&actor),
                &batch,
            )
        };
        let mut result = send().await;
        if result.as_ref().is_err_and(|e| e.code().retryable()) {
            result = send().await;
        }
        if let Ok(r) = &result
            && let Some(lsn) = &r.lsn
            && let Some(p) = ClientLsn::parse(&format!("{}:{lsn}", r.region))
        {
            self.set_cookie(format!(
                "{WRITE_POSITION_COOKIE}={}; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax",
                p.header_value()
            ));
        }
        result
    }

    /// The bar above a page's content: the clinic, and who is signed in (with the way out).
    fn bar(&self) -> String {
        let clinic = format!(r#"<a href="/">{}</a>"#, escape(&self.entry.name));
        let who = match &self.session {
            Some(s) => format!(
                r#"<span>{signed_in}</span> <a href="{space}">{my_space}</a> <form method="post" action="/sign-out">{hidden}<button class="link" type="submit">{sign_out}</button></form>"#,
                signed_in = self.tr("web-signed-in-as", &[("name", Arg::Str(&s.name))]),
                space = space_of(s.role),
                my_space = self.t("web-my-space"),
                hidden = self.hidden(false),
                sign_out = self.t("web-sign-out"),
            ),
            None => format!(r#"<a href="/sign-in">{}</a>"#, self.t("web-sign-in")),
        };
        format!(r#"<div class="bar">{clinic}<div>{who}</div></div>"#)
    }

    /// A page of this request: its document, `private, no-store`.
    pub fn render(&self, status: StatusCode, title: &str, body: &str) -> Response<Vec<u8>> {
        let html = layout::document_with(self.locale, title, &self.bar(), body);
        html_response(status, self.locale, cache::NO_STORE, html)
    }

    /// `303 See Other` to `location` (after a post: reloading the next page posts nothing).
    /// A location that is not plain visible ASCII (a visitor's `next` with a control or
    /// non-ASCII character) goes to the home page instead: never a fault.
    pub fn redirect(&self, location: &str) -> Response<Vec<u8>> {
        let location = Some(location)
            .filter(|l| l.bytes().all(|b| b.is_ascii_graphic()))
            .and_then(|l| HeaderValue::from_str(l).ok())
            .unwrap_or_else(|| HeaderValue::from_static("/"));
        let mut r = Response::new(Vec::new());
        *r.status_mut() = StatusCode::SEE_OTHER;
        r.headers_mut().insert("location", location);
        r.headers_mut()
            .insert("cache-control", HeaderValue::from_static(cache::NO_STORE));
        r
    }

    /// The response for a refusal.
    fn error(&self, e: PageError) -> Response<Vec<u8>> {
        let page = match e {
            PageError::SignIn => {
                let next = self.req.uri().path_and_query().map_or("/", |p| p.as_str());
                let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
                return self.redirect(&format!("/sign-in?next={next}"));
            }
            PageError::NotFound => ErrorPage::NotFound,
            PageError::Forbidden => ErrorPage::Forbidden,
            PageError::MethodNotAllowed => ErrorPage::MethodNotAllowed,
            PageError::BadRequest => ErrorPage::BadRequest,
            PageError::Expired => ErrorPage::Expired,
            PageError::Unavailable => ErrorPage::Unavailable,
            PageError::Internal(detail) => {
                self.ctx.host.log(
                    LogLevel::Error,
                    &format!("{} {}: {detail}", self.req.method(), self.req.uri().path()),
                );
                ErrorPage::Internal
            }
        };
        let (title, body) = layout::error_text(page, self.locale);
        let mut r = self.render(page.status(), &title, &body);
        layout::error_headers(page, &mut r);
        r
    }
}

/// Where a role's own space is.
pub fn space_of(role: Role) -> &'static str {
    match role {
        Role::Patient => "/patient",
        Role::Practitioner => "/practitioner",
        Role::Admin => "/admin",
    }
}

/// Serves every path that is not the API's.
pub async fn handle<H: Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    selector: Result<TenantSelector, ResolveError>,
) -> Response<Vec<u8>> {
    let prefs = Prefs::of(req);
    let (visitor_locale, _) = prefs.negotiate(None);
    let selector = match selector {
        Ok(s) => s,
        Err(ResolveError::BadHost) => {
            return error_response(ErrorPage::BadRequest, visitor_locale);
        }
        Err(_) => return error_response(ErrorPage::NotFound, visitor_locale),
    };
    let Some(route) = Route::parse(req.uri().path()) else {
        return error_response(ErrorPage::NotFound, visitor_locale);
    };
    if let Some(public) = Public::of(&route, req.uri().query()) {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return error_response(ErrorPage::MethodNotAllowed, visitor_locale);
        }
        return public_page(ctx, req, selector, &prefs, &public).await;
    }
    if ![Method::GET, Method::HEAD, Method::POST].contains(req.method()) {
        return error_response(ErrorPage::MethodNotAllowed, visitor_locale);
    }
    dynamic(ctx, req, selector, &prefs, route).await
}

async fn dynamic<H: Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    selector: TenantSelector,
    prefs: &Prefs<'_>,
    route: Route,
) -> Response<Vec<u8>> {
    let (visitor_locale, _) = prefs.negotiate(None);
    let entry = match ctx.tenant(&selector).await {
        Ok(Some(e)) => e,
        Ok(None) => return error_response(ErrorPage::NotFound, visitor_locale),
        Err(e) => {
            if !e.code().retryable() {
                ctx.host
                    .log(LogLevel::Error, &format!("directory lookup: {e}"));
            }
            return error_response(ErrorPage::Unavailable, visitor_locale);
        }
    };
    let (locale, source) = prefs.negotiate(Some(&entry.default_locale));
    if entry.status == TenantStatus::Suspended {
        return error_response(ErrorPage::Suspended, locale);
    }
    // A session of another clinic, forged or expired is no session here.
    let session = form::cookie(req, session::COOKIE)
        .and_then(|token| ctx.config.session_keys.verify(token, ctx.now_secs()).ok())
        .filter(|s| s.tenant == entry.slug && s.region == entry.home_region);
    let mut cookies = Vec::new();
    let csrf = match (&session, form::cookie(req, CSRF_COOKIE)) {
        (Some(s), _) => s.csrf.clone(),
        (None, Some(c))
            if c.len() >= 16
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            c.to_owned()
        }
        (None, _) => {
            let fresh = form::random_token(|b| ctx.host.fill_random(b));
            cookies.push(format!(
                "{CSRF_COOKIE}={fresh}; Path=/; HttpOnly; Secure; SameSite=Lax"
            ));
            fresh
        }
    };
    let mut page = Page {
        ctx,
        req,
        entry,
        locale,
        session,
        form: None,
        csrf,
        cookies,
    };
    let outcome = if req.method() == Method::POST {
        match Form::parse(req) {
            Err(FormError::NotAForm | FormError::TooLarge) => Err(PageError::BadRequest),
            Ok(f) if form::cross_site(req) || !f.csrf_matches(&page.csrf) => {
                Err(PageError::Expired)
            }
            Ok(f) => {
                page.form = Some(f);
                dispatch(&mut page, route).await
            }
            Err(FormError::Forged) => Err(PageError::Expired),
        }
    } else {
        dispatch(&mut page, route).await
    };
    let mut response = match outcome {
        Ok(r) => r,
        Err(e) => page.error(e),
    };
    let h = response.headers_mut();
    // Whatever the handler said: a dynamic page is never stored, by anyone.
    h.insert("cache-control", HeaderValue::from_static(cache::NO_STORE));
    h.insert("vary", HeaderValue::from_static("Accept-Language, Cookie"));
    if source == LocaleSource::Query {
        page.cookies.push(locale_cookie(locale, req));
    }
    for c in &page.cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            h.append("set-cookie", v);
        }
    }
    response
}

/// The visitor's locale preferences, from the request.
struct Prefs<'r> {
    query: Option<String>,
    cookie: Option<&'r str>,
    accept_language: Option<&'r str>,
}

impl<'r> Prefs<'r> {
    fn of(req: &'r Request<Vec<u8>>) -> Self {
        let query = form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .find(|(k, _)| k == "locale")
            .map(|(_, v)| v.into_owned());
        Self {
            query,
            cookie: form::cookie(req, "locale"),
            accept_language: req
                .headers()
                .get("accept-language")
                .and_then(|v| v.to_str().ok()),
        }
    }

    fn negotiate(&self, tenant_default: Option<&str>) -> (Locale, LocaleSource) {
        negotiate(
            self.query.as_deref(),
            self.cookie,
            self.accept_language,
            tenant_default,
        )
    }

    /// The locale when no clinic default can change it (see [`negotiate_before_tenant`]).
    fn before_tenant(&self) -> Option<(Locale, LocaleSource)> {
        negotiate_before_tenant(self.query.as_deref(), self.cookie, self.accept_language)
    }
}

fn locale_cookie(locale: Locale, req: &Request<Vec<u8>>) -> String {
    let secure = if req.uri().scheme_str() == Some("https") {
        "; Secure"
    } else {
        ""
    };
    format!(
        "locale={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
        locale.tag()
    )
}

/// A public page: the same for every visitor of a clinic in a locale, cached at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Public {
    Home,
    /// The marketplace, filtered by a category when the query names a known one.
    Marketplace(Option<crate::apps::Category>),
}

/// A public page's data, read in one batch.
enum PublicData {
    Home(home::HomeData),
    Marketplace(Vec<marketplace::CatalogApp>),
}

impl Public {
    /// The public page of `route`, if it is one.
    fn of(route: &Route, query: Option<&str>) -> Option<Public> {
        match route {
            Route::Home => Some(Public::Home),
            Route::Marketplace => Some(Public::Marketplace(marketplace::category_of(query))),
            _ => None,
        }
    }

    /// What the cache key holds of the URL: the path, and the query parameters that
    /// change the page (normalized: any other query shares the entry).
    fn key_path(&self) -> String {
        match self {
            Public::Home => "/".to_owned(),
            Public::Marketplace(None) => "/marketplace".to_owned(),
            Public::Marketplace(Some(c)) => format!("/marketplace?category={}", c.as_str()),
        }
    }

    /// The page's name in the log.
    fn what(&self) -> &'static str {
        match self {
            Public::Home => "home page",
            Public::Marketplace(_) => "marketplace page",
        }
    }

    /// Reads the page's data: one batch (see [`home::load`]).
    async fn load<H: Host>(
        &self,
        ctx: &Ctx<'_, H>,
        slug: &crate::tenant::TenantSlug,
        known: Option<&TenantEntry>,
        nearest: &crate::geo::RegionId,
    ) -> Result<(PublicData, Option<TenantEntry>), DataError> {
        Ok(match self {
            Public::Home => {
                let (d, e) = home::load(ctx, slug, known, nearest).await?;
                (PublicData::Home(d), e)
            }
            Public::Marketplace(c) => {
                let (d, e) = marketplace::load(ctx, slug, known, nearest, *c).await?;
                (PublicData::Marketplace(d), e)
            }
        })
    }

    fn render(&self, entry: &TenantEntry, locale: Locale, data: &PublicData) -> String {
        match (self, data) {
            (Public::Marketplace(c), PublicData::Marketplace(list)) => {
                marketplace::page(entry, locale, list, *c)
            }
            (_, PublicData::Home(d)) => home::home(entry, locale, d),
            (_, PublicData::Marketplace(list)) => marketplace::page(entry, locale, list, None),
        }
    }
}

/// A public page, through the edge cache.
async fn public_page<H: Host>(
    ctx: &mut Ctx<'_, H>,
    req: &Request<Vec<u8>>,
    selector: TenantSelector,
    prefs: &Prefs<'_>,
    public: &Public,
) -> Response<Vec<u8>> {
    let (visitor_locale, _) = prefs.negotiate(None);
    let path = public.key_path();
    let path = path.as_str();
    // When the slug is in the host and no clinic default can change the locale (the
    // visitor chose it, or named a supported language), the cache key is known before any
    // lookup: a fresh hit costs no directory read and no region call at all. A stale copy
    // is kept aside, for when the page cannot be rendered (`stale-if-error`). Otherwise
    // (`*`, nothing acceptable, a custom domain) the key waits for the directory.
    let max_age = ctx.config.page_max_age;
    let early = match &selector {
        TenantSelector::Slug(slug) => prefs.before_tenant().map(|decided| (slug, decided)),
        TenantSelector::Domain(_) => None,
    };
    let mut stale = None;
    if let Some((slug, (locale, source))) = early
        && let Some(stored) = ctx
            .host
            .cache_get(&cache::page_key(
                slug,
                path,
                locale,
                &ctx.config.asset_version,
            ))
            .await
    {
        match cache::from_storage(stored, ctx.host.now_millis(), max_age) {
            (page, Freshness::Fresh) => {
                return finish_public(page, locale, source, Served::Hit, req);
            }
            (page, Freshness::Stale) => stale = Some((page, locale, source)),
        }
    }
    let looked_up_early = early.is_some();
    // Where the page is not cached, its data travels in one batch. A cold edge that knows
    // only the slug sends it to the nearest region, which answers the clinic's entry with
    // it: one call either way. A custom domain needs the directory first.
    let unavailable = |ctx: &Ctx<'_, H>, what: &str, e: &DataError, stale| {
        // Unreachable or busy regions are counted by the regions; anything else is a
        // fault of ours the visitor only sees as "unavailable".
        if !e.code().retryable() {
            ctx.host.log(LogLevel::Error, &format!("{what}: {e}"));
        }
        match stale {
            Some((page, locale, source)) => finish_public(page, locale, source, Served::Stale, req),
            None => error_response(ErrorPage::Unavailable, visitor_locale),
        }
    };
    let known = match ctx.cached_tenant(&selector).await {
        Some(Some(e)) => Some(e),
        Some(None) => return error_response(ErrorPage::NotFound, visitor_locale),
        None => match &selector {
            TenantSelector::Slug(_) => None,
            TenantSelector::Domain(_) => match ctx.tenant(&selector).await {
                Ok(Some(e)) => Some(e),
                Ok(None) => return error_response(ErrorPage::NotFound, visitor_locale),
                Err(e) => return unavailable(ctx, "directory lookup", &e, stale),
            },
        },
    };
    if let Some(entry) = &known {
        let (locale, source) = prefs.negotiate(Some(&entry.default_locale));
        if entry.status == TenantStatus::Suspended {
            return error_response(ErrorPage::Suspended, locale);
        }
        let key = cache::page_key(&entry.slug, path, locale, &ctx.config.asset_version);
        if !looked_up_early
            && let Some(stored) = ctx.host.cache_get(&key).await
            // The clinic is known here: a stale copy is simply rendered anew.
            && let (page, Freshness::Fresh) =
                cache::from_storage(stored, ctx.host.now_millis(), max_age)
        {
            return finish_public(page, locale, source, Served::Hit, req);
        }
    }
    // The clinic's slug: from its entry, else from the host (a domain was looked up above).
    let slug = match (&known, &selector) {
        (Some(e), _) => e.slug.clone(),
        (None, TenantSelector::Slug(s)) => s.clone(),
        (None, TenantSelector::Domain(_)) => {
            return error_response(ErrorPage::NotFound, visitor_locale);
        }
    };
    let nearest = ctx.nearest_region();
    let (data, entry) = match public.load(ctx, &slug, known.as_ref(), &nearest).await {
        Ok((data, Some(fresh))) => {
            ctx.remember_tenant(&selector, Some(&fresh));
            (data, fresh)
        }
        Ok((data, None)) => match known {
            Some(e) => (data, e),
            None => {
                let e = DataError::Protocol {
                    region: nearest.clone(),
                    message: "a cold page's batch came back without the clinic's entry".into(),
                };
                return unavailable(ctx, public.what(), &e, stale);
            }
        },
        Err(DataError::Region { error, .. }) if error.code == ErrorCode::UnknownTenant => {
            ctx.remember_tenant(&selector, None);
            return error_response(ErrorPage::NotFound, visitor_locale);
        }
        Err(DataError::Region { error, .. }) if error.code == ErrorCode::TenantSuspended => {
            return error_response(ErrorPage::Suspended, visitor_locale);
        }
        Err(e) => return unavailable(ctx, public.what(), &e, stale),
    };
    let (locale, source) = prefs.negotiate(Some(&entry.default_locale));
    if entry.status == TenantStatus::Suspended {
        return error_response(ErrorPage::Suspended, locale);
    }
    let key = cache::page_key(&entry.slug, path, locale, &ctx.config.asset_version);
    let response = html_response(
        StatusCode::OK,
        locale,
        &cache::public_page(max_age),
        public.render(&entry, locale, &data),
    );
    ctx.defer(Background::CachePut {
        key,
        response: cache::for_storage(response.clone(), ctx.host.now_millis(), max_age),
    });
    finish_public(response, locale, source, Served::Miss, req)
}

/// Where a public page came from, for `X-Cache`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Served {
    /// A fresh copy from the edge cache.
    Hit,
    /// Rendered for this request.
    Miss,
    /// A stale copy from the edge cache: the page could not be rendered.
    Stale,
}

/// Adapts a (possibly cached) public page to this visitor: `X-Cache`, and `private` plus
/// the `locale` cookie when the locale was the visitor's explicit choice.
fn finish_public(
    mut response: Response<Vec<u8>>,
    locale: Locale,
    source: LocaleSource,
    served: Served,
    req: &Request<Vec<u8>>,
) -> Response<Vec<u8>> {
    let h = response.headers_mut();
    h.insert(
        "x-cache",
        HeaderValue::from_static(match served {
            Served::Hit => "HIT",
            Served::Miss => "MISS",
            Served::Stale => "STALE",
        }),
    );
    if matches!(source, LocaleSource::Query | LocaleSource::Cookie) {
        h.insert(
            "cache-control",
            HeaderValue::from_static(cache::PRIVATE_PAGE),
        );
    }
    if source == LocaleSource::Query
        && let Ok(v) = HeaderValue::from_str(&locale_cookie(locale, req))
    {
        h.insert("set-cookie", v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refusal the visitor caused is never the 500 page; a region's fault is.
    #[test]
    fn a_reused_form_key_is_an_expired_form_not_a_fault() {
        let refused = |code| {
            PageError::from(DataError::Region {
                region: "eu-west".parse().unwrap(),
                error: crate::dataplane::wire::RegionError::new(code, "x"),
            })
        };
        assert_eq!(refused(ErrorCode::IdempotencyMismatch), PageError::Expired);
        assert_eq!(refused(ErrorCode::Overloaded), PageError::Unavailable);
        assert!(matches!(
            refused(ErrorCode::Internal),
            PageError::Internal(_)
        ));
    }

    /// A visitor's `next` may hold anything a query can: a redirect never fails on it.
    #[test]
    fn a_location_no_header_can_carry_goes_home() {
        let config = crate::config::EdgeConfig::from_lookup(|k| match k {
            "APEX_DOMAIN" => Some("localhost".into()),
            "REGION_URLS" => Some("eu-west=http://eu.test".into()),
            "EDGE_TOKEN_KEY" => Some(crate::auth::SigningKey::from_seed([2; 32]).to_base64()),
            "API_TOKEN_PUBLIC_KEYS" => {
                Some(crate::auth::SigningKey::from_seed([1; 32]).public_base64())
            }
            "SESSION_KEYS" => Some(crate::config::TEST_SESSION_KEYS.into()),
            _ => None,
        })
        .unwrap();
        let host = NoHost;
        let mut ctx = Ctx::new(&host, &config, crate::geo::GeoHint::default());
        let req = Request::get("http://c.localhost/")
            .body(Vec::new())
            .unwrap();
        let page = Page {
            ctx: &mut ctx,
            req: &req,
            entry: serde_json::from_value(serde_json::json!({
                "slug": "cc", "name": "C", "country": "FR", "home_region": "eu-west",
                "default_locale": "fr", "currency": "EUR", "plan": "standard", "status": "active"
            }))
            .unwrap(),
            locale: Locale::fallback(),
            session: None,
            form: None,
            csrf: String::new(),
            cookies: Vec::new(),
        };
        assert_eq!(page.redirect("/patient").headers()["location"], "/patient");
        for bad in ["/caf\u{e9}", "/a\u{1}b", "/a\r\nb"] {
            let r = page.redirect(bad);
            assert_eq!(r.status(), 303);
            assert_eq!(r.headers()["location"], "/", "{bad:?}");
        }
    }

    /// A host no test here calls.
    struct NoHost;

    impl Host for NoHost {
        async fn fetch(
            &self,
            _: Request<Vec<u8>>,
        ) -> Result<Response<Vec<u8>>, crate::host::FetchError> {
            Err(crate::host::FetchError("no network in this test".into()))
        }
        async fn cache_get(&self, _: &str) -> Option<Response<Vec<u8>>> {
            None
        }
        async fn cache_put(&self, _: &str, _: Response<Vec<u8>>) {}
        fn now_millis(&self) -> u64 {
            0
        }
        fn fill_random(&self, buf: &mut [u8]) {
            buf.fill(7);
        }
        fn log(&self, _: LogLevel, _: &str) {}
    }

    /// The marketplace's cache key holds its category, and nothing else of the query.
    #[test]
    fn public_pages_key_their_path_and_category_only() {
        let key = |path: &str, query: Option<&str>| {
            Public::of(&Route::parse(path).unwrap(), query).map(|p| p.key_path())
        };
        assert_eq!(key("/", Some("category=iot")).as_deref(), Some("/"));
        assert_eq!(key("/marketplace", None).as_deref(), Some("/marketplace"));
        assert_eq!(
            key("/marketplace/", Some("utm=x&category=iot&locale=fr")).as_deref(),
            Some("/marketplace?category=iot")
        );
        assert_eq!(
            key("/marketplace", Some("category=games")).as_deref(),
            Some("/marketplace")
        );
        assert_eq!(key("/sign-in", None), None);
    }

    #[test]
    fn routes() {
        assert_eq!(Route::parse("/"), Some(Route::Home));
        assert_eq!(Route::parse(""), Some(Route::Home));
        assert_eq!(Route::parse("/sign-in"), Some(Route::SignIn));
        assert_eq!(Route::parse("/sign-in/"), Some(Route::SignIn));
        assert_eq!(Route::parse("/sign-out"), Some(Route::SignOut));
        assert_eq!(Route::parse("/nope"), None);
        assert_eq!(Route::parse("/marketplace"), Some(Route::Marketplace));
        assert_eq!(Route::parse("/sign-in/x"), None);
        assert_eq!(
            Route::parse("/practitioners/abc"),
            Some(Route::Practitioner("abc".into()))
        );
        assert_eq!(Route::parse("/book/abc/"), Some(Route::Book("abc".into())));
        assert_eq!(
            Route::parse("/patient/appointments/abc"),
            Some(Route::PatientAppointment("abc".into()))
        );
        assert_eq!(
            Route::parse("/patient/appointments/abc.ics"),
            Some(Route::PatientAppointmentIcs("abc".into()))
        );
        assert_eq!(Route::parse("/book"), None);
        assert_eq!(Route::parse("/patient/"), Some(Route::PatientSpace));
        assert_eq!(
            Route::parse("/patient/appointments/abc/cancel"),
            Some(Route::PatientCancel("abc".into()))
        );
        assert_eq!(
            Route::parse("/practitioner/patients/x"),
            Some(Route::PractitionerPatient("x".into()))
        );
        assert_eq!(
            Route::parse("/practitioner/appointments/x/status"),
            Some(Route::AppointmentStatus("x".into()))
        );
        assert_eq!(Route::parse("/practitioner/patients"), None);
        assert_eq!(
            Route::parse("/admin/practitioners/"),
            Some(Route::Admin(admin::AdminRoute::Practitioners))
        );
        assert_eq!(Route::parse("/admin/x"), None);
    }
}
