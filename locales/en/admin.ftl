# The clinic admin's pages (shared/src/web/admin). No HTML: the caller escapes.

## Dashboard (/admin)

admin-title = Administration
admin-intro = Manage the clinic's practitioners and when patients can book them.
admin-back = Back to administration
admin-back-practitioners = Back to the practitioners
# $count: how many practitioners the clinic has.
admin-practitioners-count =
    { $count ->
        [one] { $count } practitioner
       *[other] { $count } practitioners
    }
# $count: how many of them are active.
admin-active-count = Active: { $count }
# $count: free slots from now on.
admin-free-slots-count =
    { $count ->
        [one] { $count } free slot ahead
       *[other] { $count } free slots ahead
    }

## Practitioners (/admin/practitioners)

admin-practitioners-title = Practitioners
admin-practitioners-empty = No practitioners yet. Add the first one below.
admin-col-name = Name
admin-col-qualification = Qualification
admin-col-status = Status
admin-col-slots = Free slots ahead
admin-col-actions = Actions
admin-status-active = Active
admin-status-inactive = Inactive
admin-deactivate = Deactivate
admin-reactivate = Reactivate
admin-availability-link = Availability
admin-add-title = Add a practitioner
admin-given = Given name
admin-family = Family name
admin-qualification = Qualification or specialty
admin-active = Active: patients can book this practitioner
admin-add-submit = Add the practitioner
admin-family-missing = Enter the family name.
admin-too-long = This is too long.
admin-practitioner-refused = These details could not be saved. Check them and try again.

## Weekly availability (/admin/practitioners/{id}/availability)

# $name: the practitioner's name.
admin-availability-title = Availability of { $name }
admin-added = The practitioner has been added. Now set their weekly availability.
admin-weekly-title = Weekly availability
admin-availability-intro = For each day, enter up to two time ranges when the practitioner sees patients, then the length of a consultation and how many weeks ahead to open, starting tomorrow. All times are in UTC (Coordinated Universal Time).
admin-day-mon = Monday
admin-day-tue = Tuesday
admin-day-wed = Wednesday
admin-day-thu = Thursday
admin-day-fri = Friday
admin-day-sat = Saturday
admin-day-sun = Sunday
admin-from = From (UTC)
admin-to = To (UTC)
admin-from-2 = Then from (UTC)
admin-to-2 = To (UTC), second range
admin-slot-minutes = Length of a consultation (minutes)
admin-weeks = Weeks ahead
admin-availability-submit = Generate the slots
admin-form-faults = Nothing was saved: correct the fields marked below.
admin-time-invalid = Enter a time as hh:mm.
admin-time-pair = Enter both the start and the end of this range.
admin-end-before-start = The end must be after the start.
# $minutes: the length of a consultation.
admin-not-divisible = The range must hold a whole number of { $minutes }-minute consultations.
admin-overlap = This range overlaps the first range of the same day.
admin-slot-invalid = Enter a length between 5 and 480 minutes.
# $max: the most weeks at once.
admin-weeks-invalid = Enter a number of weeks between 1 and { $max }.
admin-no-range = Enter at least one time range.
# $max: the most slots one generation makes.
admin-too-many-slots = That makes too many slots at once (at most { $max }): open fewer weeks or shorter ranges.
# $count: slots made; $first, $last: the first and last slot's start (date and time, UTC).
admin-generated =
    { $count ->
        [one] { $count } slot created, at { $first }.
       *[other] { $count } slots created, from { $first } to { $last }.
    }
admin-generated-none = No new slot: these slots already existed.
# $count: free slots ahead; $first, $last: the first and last one's start (UTC).
admin-upcoming =
    { $count ->
        [one] { $count } free slot ahead, at { $first }.
       *[other] { $count } free slots ahead, from { $first } to { $last }.
    }
admin-upcoming-none = No free slot ahead.

## Prices (/admin/prices)

admin-prices-title = Prices
# $count: active prices.
admin-prices-count =
    { $count ->
        [one] { $count } consultation type priced
       *[other] { $count } consultation types priced
    }
admin-prices-empty = No prices yet.
admin-price-col-type = Consultation type
admin-price-col-code = Code
admin-price-col-amount = Price
admin-price-retire = Retire
admin-price-set-title = Set a price
admin-price-help = One price per consultation type: setting the price of a type that has one replaces it. Invoices already issued keep their amount.
admin-price-code = Code of the consultation type (letters, digits, dashes)
admin-price-display = Name of the consultation type
# $currency: the clinic's currency code (EUR, XOF…).
admin-price-amount = Price ({ $currency })
admin-price-submit = Save the price
admin-price-code-invalid = Enter a code of lower-case letters, digits and dashes.
admin-price-display-missing = Enter the name patients will read.
admin-price-amount-invalid = Enter an amount such as 45.50, without spaces.
# $decimals: the currency's minor units.
admin-price-too-precise = This currency allows { $decimals } decimals at most.
admin-price-not-positive = A price is greater than zero.
admin-price-conflict = This type's price was just changed by someone else. Check the list and try again.

## Accounts (/admin/accounts)

admin-accounts-title = Accounts
# $count: accounts that can sign in.
admin-accounts-count =
    { $count ->
        [one] { $count } account can sign in
       *[other] { $count } accounts can sign in
    }
admin-account-col-email = Email address
admin-account-col-name = Name
admin-account-col-role = Role
admin-account-col-last = Last sign-in (UTC)
admin-account-never = Never
admin-account-disabled = Disabled
admin-account-disable = Disable
admin-account-enable = Enable
admin-role-patient = Patient
admin-role-practitioner = Practitioner
admin-role-admin = Administrator
admin-account-new-title = Create an account
admin-account-email = Email address
admin-account-name = Name shown when signed in
admin-account-role = Role
admin-account-practitioner = Practitioner (for a practitioner's account)
admin-account-practitioner-none = None
# $min: the fewest characters a password has.
admin-account-password = Initial password (at least { $min } characters)
admin-account-submit = Create the account
admin-account-email-invalid = Enter an email address such as name@example.com.
admin-account-email-taken = An account already uses this email address.
admin-account-name-missing = Enter the name.
admin-account-role-invalid = Choose practitioner or administrator.
admin-account-practitioner-missing = Choose the practitioner this account is for.
# $min: the fewest characters.
admin-account-password-short = The password needs at least { $min } characters.
# $max: the most characters.
admin-account-password-long = The password may have at most { $max } characters.

## Consultation type of generated slots

admin-service = Consultation type offered (priced types)
admin-service-none = None
admin-service-invalid = Choose a consultation type of the list.
