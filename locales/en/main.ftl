# Messages of Telemed Edge — English.
# Contain no HTML: the caller escapes the formatted text. Every id here must exist, with the
# same variables, in every locale (checked by the tests of shared/src/i18n.rs).

## Locale metadata, read by the code (Locale::autonym, Locale::dir).

locale-name = English
# `ltr` or `rtl`: the <html dir> of pages in this locale.
locale-direction = ltr

## Home page

# Page title. $clinic: the clinic's name.
home-title = { $clinic } — Online consultations
# $clinic: the clinic's name.
home-greeting = Welcome to { $clinic }
home-intro = See a doctor online, in your own language, safely and securely.
home-book = Book an appointment
language-switcher-label = Language
# $count: a number of patients.
patients-count =
    { $count ->
        [one] { $count } patient
       *[other] { $count } patients
    }

## Error pages

not-found-title = Page not found
not-found-body = There is no clinic or page at this address. Please check the link and try again.
clinic-suspended-title = Clinic temporarily unavailable
clinic-suspended-body = This clinic has paused its online consultations. In an emergency, contact your local emergency services.
bad-request-title = Invalid request
bad-request-body = Your browser sent a request we could not process. Please check the address and try again.
error-title = Something went wrong
error-body = A temporary problem is preventing us from showing this page. Please try again in a few moments.
unavailable-title = Service temporarily unavailable
unavailable-body = The service is under maintenance or overloaded. Please try again in a few minutes.

## Footer

footer-privacy = Your health data is stored and protected in accordance with the data protection laws of your clinic’s country.

## Country policy (GET /v1/policy)

policy-regulation = Regulation
policy-required-patient-fields = Required patient record fields
policy-consents = Consents and the processing they gate
policy-retention = Retention of medical records
policy-national-identifier = National patient identifier
policy-encrypt-identifiers = Encryption of national identifiers
policy-breach-notice = Deadline to notify a data breach
policy-hosting = Regions where data may be hosted

## Erasure (POST /v1/patients/{id}/$erase)

erase-medical-record = Medical record
erase-contact-details = Contact details
erase-unheld-appointments = Appointments that never held care
erase-cached-responses = Cached copies of answers
erase-webhook-events = Webhook events about the patient
