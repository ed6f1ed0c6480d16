## Webhooks (/admin/webhooks)

admin-webhooks-title = Webhooks
admin-webhooks-dashboard = Où les événements de la clinique sont envoyés, et comment chaque envoi s’est passé.
admin-webhooks-intro = Les événements de la clinique (réservations, annulations, nouveaux patients, mesures) sont envoyés, signés, à ces adresses. Chacun ne porte que des identifiants, jamais un nom ni une mesure.
admin-webhooks-endpoints = Points de réception
admin-webhooks-no-endpoints = Aucun point de réception pour l’instant. Un opérateur en ajoute un avec la commande regional-db webhooks add, qui affiche son secret de signature une seule fois.
admin-webhooks-col-url = Adresse
admin-webhooks-col-events = Événements
admin-webhooks-disabled = Désactivé
admin-webhooks-reason-gone = le destinataire a répondu 410 Gone
admin-webhooks-reason-admin = désactivé par un administrateur
admin-webhooks-disable = Désactiver
admin-webhooks-enable = Réactiver
admin-webhooks-deliveries = Envois récents
admin-webhooks-no-deliveries = Aucun envoi pour l’instant.
admin-webhooks-col-created = Événement (UTC)
admin-webhooks-col-type = Type
admin-webhooks-col-id = webhook-id
admin-webhooks-col-attempts = Tentatives
admin-webhooks-col-last = Dernière réponse
admin-webhooks-col-next = Prochaine tentative (UTC)
admin-webhooks-status-pending = En attente
admin-webhooks-status-delivered = Livré
admin-webhooks-status-failed = Échoué
admin-webhooks-waiting = Attend la réactivation de son point de réception
admin-webhooks-replay = Renvoyer
admin-webhooks-replay-help = Renvoyer envoie de nouveau le même événement, avec le même webhook-id : un destinataire qui l’a déjà reçu l’ignore.
# $id: the delivery's number.
admin-webhooks-delivery-title = Envoi { $id }
admin-webhooks-log = Tentatives
admin-webhooks-no-attempts = Aucune tentative pour l’instant.
admin-webhooks-col-attempt = Tentative
admin-webhooks-col-at = Quand (UTC)
admin-webhooks-col-code = Statut HTTP
admin-webhooks-col-error = Erreur
admin-webhooks-col-duration = Durée (ms)
admin-webhooks-back = Retour aux webhooks
