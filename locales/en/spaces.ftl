# The signed-in spaces (shared/src/web/spaces.rs). No HTML: the caller escapes.

## Shared

spaces-when = Date and time
spaces-with = Practitioner
spaces-patient = Patient
spaces-status = Status
spaces-actions = Actions
spaces-details = Details
spaces-times-utc = Times are shown in UTC.
spaces-status-booked = Booked
spaces-status-arrived = Arrived
spaces-status-fulfilled = Fulfilled
spaces-status-cancelled = Cancelled
spaces-status-noshow = No-show
spaces-status-other = Other
spaces-bp = Blood pressure
spaces-systolic = Systolic
spaces-diastolic = Diastolic
spaces-glucose = Glucose
spaces-weight = Weight

## The patient's space (/patient)

spaces-patient-title = My space
spaces-upcoming = Upcoming appointments
spaces-upcoming-none = You have no upcoming appointment.
spaces-past = Past visits
spaces-past-none = No past visits yet.
spaces-readings = My readings
spaces-cancel = Cancel
# $date: the appointment's date and time.
spaces-cancel-label = Cancel the appointment of { $date }
spaces-cancelled = Your appointment has been cancelled.
spaces-cancel-past = This appointment has already started or taken place: it can no longer be cancelled.
# $status: the appointment's status, in words.
spaces-cancel-not-booked = This appointment can no longer be cancelled: its status is “{ $status }”.
spaces-changed-meanwhile = The appointment changed in the meantime: here it is as it is now. Please try again.

spaces-invoices = My invoices
spaces-invoices-none = No invoices yet.
spaces-invoice-date = Date
spaces-invoice-what = Consultation
spaces-invoice-amount = Amount
spaces-invoice-issued = To pay
spaces-invoice-paid = Paid

## The practitioner's space (/practitioner)

spaces-practitioner-title = My schedule
# $date: today's date.
spaces-today = Today, { $date }
spaces-today-none = No appointments today.
spaces-time-utc = Time (UTC)
spaces-mark-arrived = Mark arrived
spaces-mark-fulfilled = Mark fulfilled
spaces-mark-noshow = Mark no-show
# $status: the new status, in words.
spaces-marked = The appointment is now “{ $status }”.
# $status: the appointment's current status, in words.
spaces-transition-refused = This change is not possible: the appointment is “{ $status }”. An appointment goes from booked to arrived, then fulfilled, or from booked to no-show.
spaces-status-invalid = Choose arrived, fulfilled or no-show.
spaces-unpriced = This consultation has no price yet, so it cannot be marked fulfilled (no invoice could be issued). Ask the clinic’s administrator to set its price.
spaces-back-to-schedule = Back to my schedule
spaces-demographics = Patient details
spaces-birth-date = Date of birth
spaces-gender = Gender
spaces-gender-male = Male
spaces-gender-female = Female
spaces-gender-other = Other
spaces-gender-unknown = Unknown
spaces-appointments-with-you = Appointments with you
spaces-patient-readings = Readings
