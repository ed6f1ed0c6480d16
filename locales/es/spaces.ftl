# The signed-in spaces (shared/src/web/spaces.rs). No HTML: the caller escapes.

## Shared

spaces-when = Fecha y hora
spaces-with = Profesional
spaces-patient = Paciente
spaces-status = Estado
spaces-actions = Acciones
spaces-details = Detalles
spaces-times-utc = Las horas se muestran en UTC.
spaces-status-booked = Reservada
spaces-status-arrived = Llegó
spaces-status-fulfilled = Realizada
spaces-status-cancelled = Cancelada
spaces-status-noshow = No se presentó
spaces-status-other = Otro
spaces-bp = Presión arterial
spaces-systolic = Sistólica
spaces-diastolic = Diastólica
spaces-glucose = Glucosa
spaces-weight = Peso

## The patient's space (/patient)

spaces-patient-title = Mi espacio
spaces-upcoming = Próximas citas
spaces-upcoming-none = No tiene ninguna cita próxima.
spaces-past = Consultas anteriores
spaces-past-none = Todavía no hay consultas anteriores.
spaces-readings = Mis mediciones
spaces-cancel = Cancelar
# $date: the appointment's date and time.
spaces-cancel-label = Cancelar la cita del { $date }
spaces-cancelled = Su cita ha sido cancelada.
spaces-cancel-past = Esta cita ya comenzó o ya tuvo lugar: ya no se puede cancelar.
# $status: the appointment's status, in words.
spaces-cancel-not-booked = Esta cita ya no se puede cancelar: su estado es «{ $status }».
spaces-changed-meanwhile = La cita cambió mientras tanto: aquí está tal como es ahora. Inténtelo de nuevo.

spaces-invoices = Mis facturas
spaces-invoices-none = Todavía no hay facturas.
spaces-invoice-date = Fecha
spaces-invoice-what = Consulta
spaces-invoice-amount = Importe
spaces-invoice-issued = Por pagar
spaces-invoice-paid = Pagada

## The practitioner's space (/practitioner)

spaces-practitioner-title = Mi agenda
# $date: today's date.
spaces-today = Hoy, { $date }
spaces-today-none = No hay citas hoy.
spaces-time-utc = Hora (UTC)
spaces-mark-arrived = Marcar llegada
spaces-mark-fulfilled = Marcar realizada
spaces-mark-noshow = Marcar no presentado
# $status: the new status, in words.
spaces-marked = La cita ahora está «{ $status }».
# $status: the appointment's current status, in words.
spaces-transition-refused = Este cambio no es posible: la cita está «{ $status }». Una cita pasa de reservada a llegó y luego a realizada, o de reservada a no se presentó.
spaces-status-invalid = Elija llegada, realizada o no presentado.
spaces-unpriced = Esta consulta aún no tiene precio, por lo que no se puede marcar como realizada (no se podría emitir la factura). Pida al administrador de la clínica que fije su precio.
spaces-back-to-schedule = Volver a mi agenda
spaces-demographics = Datos del paciente
spaces-birth-date = Fecha de nacimiento
spaces-gender = Género
spaces-gender-male = Hombre
spaces-gender-female = Mujer
spaces-gender-other = Otro
spaces-gender-unknown = Desconocido
spaces-appointments-with-you = Citas con usted
spaces-patient-readings = Mediciones
