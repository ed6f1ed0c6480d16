## Webhooks (/admin/webhooks)

admin-webhooks-title = Webhooks
admin-webhooks-dashboard = Adónde se envían los eventos de la clínica y cómo fue cada envío.
admin-webhooks-intro = Los eventos de la clínica (reservas, cancelaciones, pacientes nuevos, mediciones) se envían, firmados, a estas direcciones. Cada uno lleva solo identificadores, nunca un nombre ni una medición.
admin-webhooks-endpoints = Puntos de recepción
admin-webhooks-no-endpoints = Aún no hay ningún punto de recepción. Un operador añade uno con el comando regional-db webhooks add, que muestra su secreto de firma una sola vez.
admin-webhooks-col-url = Dirección
admin-webhooks-col-events = Eventos
admin-webhooks-disabled = Desactivado
admin-webhooks-reason-gone = el receptor respondió 410 Gone
admin-webhooks-reason-admin = desactivado por un administrador
admin-webhooks-disable = Desactivar
admin-webhooks-enable = Reactivar
admin-webhooks-deliveries = Envíos recientes
admin-webhooks-no-deliveries = Aún no hay envíos.
admin-webhooks-col-created = Evento (UTC)
admin-webhooks-col-type = Tipo
admin-webhooks-col-id = webhook-id
admin-webhooks-col-attempts = Intentos
admin-webhooks-col-last = Última respuesta
admin-webhooks-col-next = Próximo intento (UTC)
admin-webhooks-status-pending = Pendiente
admin-webhooks-status-delivered = Entregado
admin-webhooks-status-failed = Fallido
admin-webhooks-waiting = Espera a que se reactive su punto de recepción
admin-webhooks-replay = Reenviar
admin-webhooks-replay-help = Reenviar manda de nuevo el mismo evento, con el mismo webhook-id: un receptor que ya lo tiene lo ignora.
# $id: the delivery's number.
admin-webhooks-delivery-title = Envío { $id }
admin-webhooks-log = Intentos
admin-webhooks-no-attempts = Aún no hay intentos.
admin-webhooks-col-attempt = Intento
admin-webhooks-col-at = Cuándo (UTC)
admin-webhooks-col-code = Estado HTTP
admin-webhooks-col-error = Error
admin-webhooks-col-duration = Duración (ms)
admin-webhooks-back = Volver a los webhooks
