# The operators' console on the apex host (shared/src/ops/console.rs). No HTML: the caller escapes.

## Sign-in (/ops/sign-in)

ops-sign-in-title = Operator sign-in
ops-sign-in-intro = For the platform's operators only. Clinic accounts sign in on their clinic's address.
ops-email = Email
ops-password = Password
ops-sign-in-submit = Sign in
ops-sign-in-refused = Wrong email or password.
# $minutes: how long sign-in stays locked.
ops-sign-in-locked =
    { $minutes ->
        [one] Too many failed attempts: try again in { $minutes } minute.
       *[other] Too many failed attempts: try again in { $minutes } minutes.
    }
# $name: the operator's name.
ops-signed-in-as = Signed in as { $name }
ops-sign-out = Sign out

## Clinics (/ops/tenants)

ops-tenants-title = Clinics
ops-tenants-empty = No clinic matches.
ops-filter-status = Status
ops-filter-all = All
ops-filter-submit = Filter
ops-status-active = Active
ops-status-suspended = Suspended
ops-col-slug = Slug
ops-col-name = Name
ops-col-status = Status
ops-col-plan = Plan
ops-col-region = Home region
ops-col-domains = Domains
ops-col-country = Country
ops-col-locale = Default language
ops-col-created = Created
ops-next-page = Next clinics
ops-domain-pending = pending verification
ops-domain-verified = verified
ops-back = Back to the clinics

## One clinic (/ops/tenants/<slug>)

# $name: the clinic's name; $slug: its slug.
ops-tenant-title = { $name } ({ $slug })
ops-plan-title = Plan
ops-plan-submit = Change the plan
ops-suspend-title = Suspend
# $slug: the clinic's slug.
ops-suspend-confirm = I confirm: suspend { $slug }. Its pages and API will answer that it is suspended.
ops-suspend-submit = Suspend the clinic
ops-resume-title = Resume
# $slug: the clinic's slug.
ops-resume-confirm = I confirm: serve { $slug } again.
ops-resume-submit = Resume the clinic
ops-domains-title = Custom domains
ops-domain-label = Domain (e.g. www.clinic.example)
ops-domain-add-submit = Add the domain
ops-domain-publish = Publish this DNS record, then verify:
ops-domain-verify-submit = Verify now
ops-domain-remove-submit = Remove
ops-delete-title = Delete
ops-delete-warning = Deleting exports every table of the clinic, then erases its data in its home region and removes it from the directory everywhere. Suspend it first. This cannot be undone.
# $slug: the clinic's slug, to type again.
ops-delete-confirm-label = Type { $slug } to confirm
ops-delete-submit = Export and delete
ops-deleted-title = Clinic deleted
# $slug, $region, $directory: where the export is; $rows: rows exported then erased.
ops-deleted-body =
    { $rows ->
        [one] { $slug } was exported to { $directory } in { $region } ({ $rows } row), then deleted.
       *[other] { $slug } was exported to { $directory } in { $region } ({ $rows } rows), then deleted.
    }

## Notices after a change

ops-notice-updated = Saved.
ops-notice-suspended = The clinic is suspended. Edges follow within a minute.
ops-notice-resumed = The clinic is served again. Edges follow within a minute.
ops-notice-domain-added = Domain added: publish its DNS record, then verify it.
ops-notice-domain-verified = Domain verified: it now routes to the clinic.
ops-notice-domain-removed = Domain removed.
ops-notice-unchanged = Nothing to change: it already was so.

## Refusals

ops-error-title = Not done
ops-error-generic = The operation was refused; nothing was changed.
ops-error-bad-request = The request is not valid; nothing was changed.
ops-error-confirmation-required = Please confirm first; nothing was changed.
ops-error-confirmation-mismatch = The slug typed does not match; nothing was deleted.
ops-error-unknown-clinic = No clinic has this slug.
ops-error-unknown-domain = This clinic has no such domain.
ops-error-domain-taken = This domain belongs to another clinic.
ops-error-bad-domain = This is not a domain name a clinic can use.
ops-error-apex-domain = The platform's own domain and its subdomains cannot be a clinic's custom domain.
ops-error-domain-not-verified = The DNS record was not found yet. DNS changes take time: try again later.
ops-error-dns-failed = The DNS lookup failed: try again later.
ops-error-not-suspended = Suspend the clinic before deleting it.
ops-error-legal-holds = Patients of this clinic are under legal hold: it cannot be deleted.
ops-error-bad-plan = Unknown plan.
ops-error-bad-name = A clinic name has 1 to 200 characters.
ops-error-nothing-to-update = Nothing to change.
ops-error-already-exists = This clinic or domain already exists.
ops-error-operator-disabled = Your operator account is disabled.
ops-error-unavailable = The control plane cannot be reached now: try again shortly.
