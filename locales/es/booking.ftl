# El recorrido de reserva (shared/src/web/booking.rs). Sin HTML: quien llama escapa.

## Fechas y horas (UTC: la zona horaria de la clínica aún no está modelada)

booking-times-in-utc = Las horas se indican en UTC (tiempo universal coordinado).

## La página del profesional

booking-next-slots = Próximas horas disponibles
booking-no-slots = No hay horas libres en las próximas semanas. Vuelva más tarde.
booking-back-home = Volver al inicio de la clínica

## El formulario de reserva

booking-title = Pedir cita
# $practitioner: el nombre del profesional.
booking-with = Con { $practitioner }
booking-submit = Confirmar la cita
booking-choose-another = Elegir otra hora
booking-fix-errors = Faltan datos o hay datos incorrectos: vea los mensajes a continuación.
booking-refused = La clínica no pudo registrar esta cita. Revise sus datos e inténtelo de nuevo.
# $name: el nombre del paciente conectado.
booking-as = Reserva como { $name }.
booking-optional = (opcional)
booking-details = Sus datos
booking-given = Nombre
booking-family = Apellidos
booking-birth-date = Fecha de nacimiento
booking-gender = Sexo
booking-gender-choose = Elegir…
booking-gender-female = Femenino
booking-gender-male = Masculino
booking-gender-other = Otro
booking-gender-unknown = Prefiero no decirlo
booking-national-id-fr-nir = Número de la seguridad social francesa (NIR)
booking-national-id-za-id = Número de identidad sudafricano
booking-national-id-us-ssn = Número de la Seguridad Social estadounidense (SSN)
booking-account = Su cuenta
booking-account-intro = Su cuenta le permite ver sus citas y cancelarlas.
booking-email = Correo electrónico
booking-password = Contraseña
booking-password-hint = Al menos 12 caracteres.
booking-consents = Consentimiento
booking-consent-telemedicine = Acepto ser atendido por teleconsulta (consulta por vídeo).
# $kind: el código del consentimiento.
booking-consent-other = Doy mi consentimiento: { $kind }
# $source: la norma en la que se basa el consentimiento.
booking-consent-source = Exigido por: { $source }

## Errores junto a los campos

booking-given-missing = Escriba su nombre.
booking-given-invalid = Revise su nombre.
booking-family-missing = Escriba sus apellidos.
booking-family-invalid = Revise sus apellidos.
booking-birth-date-missing = Escriba su fecha de nacimiento.
booking-birth-date-invalid = Escriba una fecha de nacimiento válida, que no sea futura.
booking-gender-missing = Elija su sexo.
booking-gender-invalid = Elija una de las opciones.
booking-national-id-missing = Escriba su número de identificación.
booking-national-id-invalid = Este número no es válido. Revíselo o deje el campo vacío.
booking-email-missing = Escriba su correo electrónico.
booking-email-invalid = Escriba un correo electrónico válido, como nombre@ejemplo.es.
booking-email-taken = Ya hay una cuenta con este correo electrónico. Inicie sesión para reservar con ella.
booking-password-missing = Elija una contraseña.
booking-password-rule = Su contraseña debe tener entre 12 y 256 caracteres.
booking-consent-missing = Se necesita su consentimiento para reservar una teleconsulta.

## Una hora reservada mientras tanto

booking-slot-taken = Lo sentimos, otra persona acaba de reservar esta hora. Elija otra hora.
booking-other-slots = Otras horas disponibles
# $practitioner: el nombre del profesional.
booking-see-practitioner = Ver todas las horas de { $practitioner }

## La confirmación

booking-confirmed-title = Su cita está confirmada
booking-appointment-title = Su cita
booking-date = Fecha y hora
booking-practitioner = Profesional
booking-status = Estado
booking-status-booked = Reservada
booking-status-arrived = Llegada
booking-status-fulfilled = Realizada
booking-status-cancelled = Cancelada
booking-status-noshow = No presentada
booking-status-other = Otro
booking-add-to-calendar = Añadir a mi calendario (.ics)
# El título del evento de calendario. $clinic: el nombre de la clínica.
booking-ics-summary = Teleconsulta — { $clinic }
# $practitioner: el nombre del profesional.
booking-ics-summary-with = Teleconsulta con { $practitioner } — { $clinic }
