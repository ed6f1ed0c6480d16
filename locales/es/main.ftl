# Messages of Telemed Edge — español (usted: trato formal, neutro para España y América).
# Contain no HTML: the caller escapes the formatted text. Every id here must exist, with the
# same variables, in every locale (checked by the tests of shared/src/i18n.rs).

## Locale metadata, read by the code (Locale::autonym, Locale::dir).

locale-name = Español
# `ltr` or `rtl`: the <html dir> of pages in this locale.
locale-direction = ltr

## Home page

# Page title. $clinic: the clinic's name.
home-title = { $clinic } — Teleconsulta
# $clinic: the clinic's name.
home-greeting = Le damos la bienvenida a { $clinic }
home-intro = Consulte a un médico en línea, en su idioma y con total seguridad.
home-book = Reservar una cita
language-switcher-label = Idioma
# $count: a number of patients.
patients-count =
    { $count ->
        [one] { $count } paciente
       *[other] { $count } pacientes
    }

## Error pages

not-found-title = Página no encontrada
not-found-body = No existe ninguna clínica ni página en esta dirección. Compruebe el enlace e inténtelo de nuevo.
clinic-suspended-title = Clínica no disponible temporalmente
clinic-suspended-body = Esta clínica ha suspendido sus consultas en línea. En caso de urgencia, comuníquese con los servicios de emergencia de su país.
bad-request-title = Solicitud no válida
bad-request-body = Su navegador envió una solicitud que no podemos procesar. Compruebe la dirección e inténtelo de nuevo.
error-title = Se produjo un error
error-body = Un problema temporal nos impide mostrar esta página. Inténtelo de nuevo dentro de unos instantes.
unavailable-title = Servicio no disponible temporalmente
unavailable-body = El servicio está en mantenimiento o sobrecargado. Inténtelo de nuevo dentro de unos minutos.

## Footer

footer-privacy = Sus datos de salud se almacenan y protegen conforme a la legislación de protección de datos del país de su clínica.

## Country policy (GET /v1/policy)

policy-regulation = Normativa
policy-required-patient-fields = Campos obligatorios de la historia del paciente
policy-consents = Consentimientos y los tratamientos que condicionan
policy-retention = Conservación de las historias clínicas
policy-national-identifier = Identificador nacional del paciente
policy-encrypt-identifiers = Cifrado de los identificadores nacionales
policy-breach-notice = Plazo para notificar una brecha de datos
policy-hosting = Regiones donde pueden alojarse los datos

## Supresión (POST /v1/patients/{id}/$erase)

erase-medical-record = Historia clínica
erase-contact-details = Datos de contacto
erase-unheld-appointments = Citas sin atención (futuras o canceladas)
erase-cached-responses = Copias de respuestas en caché
erase-webhook-events = Eventos de webhook sobre el paciente
