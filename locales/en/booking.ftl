# The booking journey (shared/src/web/booking.rs). No HTML: the caller escapes.

## Dates and times (UTC: the clinic's time zone is not modelled yet)

booking-times-in-utc = Times are shown in UTC (Coordinated Universal Time).

## The practitioner's page

booking-next-slots = Next available times
booking-no-slots = No free time in the coming weeks. Please come back later.
booking-back-home = Back to the clinic's home page

## The booking form

booking-title = Book an appointment
# $practitioner: the practitioner's name.
booking-with = With { $practitioner }
booking-submit = Confirm the appointment
booking-choose-another = Choose another time
booking-fix-errors = Some information is missing or incorrect: see the messages below.
booking-refused = The clinic could not record this appointment. Check your details and try again.
# $name: the signed-in patient's name.
booking-as = You are booking as { $name }.
booking-optional = (optional)
booking-details = Your details
booking-given = First name
booking-family = Last name
booking-birth-date = Date of birth
booking-gender = Sex
booking-gender-choose = Choose…
booking-gender-female = Female
booking-gender-male = Male
booking-gender-other = Other
booking-gender-unknown = Prefer not to say
booking-national-id-fr-nir = Social security number (NIR)
booking-national-id-za-id = South African identity number
booking-national-id-us-ssn = Social Security number
booking-account = Your account
booking-account-intro = Your account lets you see your appointments and cancel them.
booking-email = Email address
booking-password = Password
booking-password-hint = At least 12 characters.
booking-consents = Consent
booking-consent-telemedicine = I consent to being cared for by teleconsultation (a video consultation).
# $kind: the consent's code.
booking-consent-other = I give my consent: { $kind }
# $source: the rule the consent rests on.
booking-consent-source = Required by: { $source }

## Errors next to the fields

booking-given-missing = Enter your first name.
booking-given-invalid = Check your first name.
booking-family-missing = Enter your last name.
booking-family-invalid = Check your last name.
booking-birth-date-missing = Enter your date of birth.
booking-birth-date-invalid = Enter a valid date of birth, not in the future.
booking-gender-missing = Choose your sex.
booking-gender-invalid = Choose one of the options.
booking-national-id-missing = Enter your identification number.
booking-national-id-invalid = This number is not valid. Check it, or leave the field empty.
booking-email-missing = Enter your email address.
booking-email-invalid = Enter a valid email address, like name@example.com.
booking-email-taken = An account already uses this email address. Sign in to book with it.
booking-password-missing = Choose a password.
booking-password-rule = Your password must have between 12 and 256 characters.
booking-consent-missing = Your consent is needed to book a teleconsultation.

## A slot taken meanwhile

booking-slot-taken = Sorry, this time has just been booked by someone else. Please choose another time.
booking-other-slots = Other available times
# $practitioner: the practitioner's name.
booking-see-practitioner = See all of { $practitioner }'s times

## The confirmation

booking-confirmed-title = Your appointment is booked
booking-appointment-title = Your appointment
booking-date = Date and time
booking-practitioner = Practitioner
booking-status = Status
booking-status-booked = Booked
booking-status-arrived = Arrived
booking-status-fulfilled = Done
booking-status-cancelled = Cancelled
booking-status-noshow = Missed
booking-status-other = Other
booking-add-to-calendar = Add to my calendar (.ics)
# The calendar event's title. $clinic: the clinic's name.
booking-ics-summary = Teleconsultation — { $clinic }
# $practitioner: the practitioner's name.
booking-ics-summary-with = Teleconsultation with { $practitioner } — { $clinic }
