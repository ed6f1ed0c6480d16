## Webhooks (/admin/webhooks)

admin-webhooks-title = Webhooks
admin-webhooks-dashboard = Where the clinic's events are sent, and how each delivery went.
admin-webhooks-intro = The clinic's events (bookings, cancellations, new patients, readings) are sent, signed, to these addresses. Each carries identifiers only, never a name or a reading.
admin-webhooks-endpoints = Endpoints
admin-webhooks-no-endpoints = No endpoint yet. An operator adds one with the regional-db webhooks add command, which shows its signing secret once.
admin-webhooks-col-url = Address
admin-webhooks-col-events = Events
admin-webhooks-disabled = Disabled
admin-webhooks-reason-gone = the receiver answered 410 Gone
admin-webhooks-reason-admin = disabled by an administrator
admin-webhooks-disable = Disable
admin-webhooks-enable = Enable
admin-webhooks-deliveries = Recent deliveries
admin-webhooks-no-deliveries = No delivery yet.
admin-webhooks-col-created = Event (UTC)
admin-webhooks-col-type = Type
admin-webhooks-col-id = webhook-id
admin-webhooks-col-attempts = Attempts
admin-webhooks-col-last = Last answer
admin-webhooks-col-next = Next attempt (UTC)
admin-webhooks-status-pending = Pending
admin-webhooks-status-delivered = Delivered
admin-webhooks-status-failed = Failed
admin-webhooks-waiting = Waiting for its endpoint to be enabled
admin-webhooks-replay = Replay
admin-webhooks-replay-help = Replaying sends the same event again, with the same webhook-id: a receiver that already has it ignores it.
# $id: the delivery's number.
admin-webhooks-delivery-title = Delivery { $id }
admin-webhooks-log = Attempts
admin-webhooks-no-attempts = No attempt yet.
admin-webhooks-col-attempt = Attempt
admin-webhooks-col-at = When (UTC)
admin-webhooks-col-code = HTTP status
admin-webhooks-col-error = Error
admin-webhooks-col-duration = Duration (ms)
admin-webhooks-back = Back to the webhooks
