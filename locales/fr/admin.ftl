# Pages de l'administrateur de la clinique (shared/src/web/admin). Pas de HTML : l'appelant échappe.

## Tableau de bord (/admin)

admin-title = Administration
admin-intro = Gérez les praticiens de la clinique et les créneaux où les patients peuvent les réserver.
admin-back = Retour à l'administration
admin-back-practitioners = Retour aux praticiens
# $count: how many practitioners the clinic has.
admin-practitioners-count =
    { $count ->
        [one] { $count } praticien
       *[other] { $count } praticiens
    }
# $count: how many of them are active.
admin-active-count = Actifs : { $count }
# $count: free slots from now on.
admin-free-slots-count =
    { $count ->
        [one] { $count } créneau libre à venir
       *[other] { $count } créneaux libres à venir
    }

## Praticiens (/admin/practitioners)

admin-practitioners-title = Praticiens
admin-practitioners-empty = Aucun praticien pour l'instant. Ajoutez le premier ci-dessous.
admin-col-name = Nom
admin-col-qualification = Qualification
admin-col-status = Statut
admin-col-slots = Créneaux libres à venir
admin-col-actions = Actions
admin-status-active = Actif
admin-status-inactive = Inactif
admin-deactivate = Désactiver
admin-reactivate = Réactiver
admin-availability-link = Disponibilités
admin-add-title = Ajouter un praticien
admin-given = Prénom
admin-family = Nom de famille
admin-qualification = Qualification ou spécialité
admin-active = Actif : les patients peuvent réserver ce praticien
admin-add-submit = Ajouter le praticien
admin-family-missing = Saisissez le nom de famille.
admin-too-long = Ce texte est trop long.
admin-practitioner-refused = Ces informations n'ont pas pu être enregistrées. Vérifiez-les et réessayez.

## Disponibilités hebdomadaires (/admin/practitioners/{id}/availability)

# $name: the practitioner's name.
admin-availability-title = Disponibilités de { $name }
admin-added = Le praticien a été ajouté. Définissez maintenant ses disponibilités hebdomadaires.
admin-weekly-title = Disponibilités hebdomadaires
admin-availability-intro = Pour chaque jour, saisissez jusqu'à deux plages horaires de consultation, puis la durée d'une consultation et le nombre de semaines à ouvrir à partir de demain. Toutes les heures sont en UTC (temps universel coordonné).
admin-day-mon = Lundi
admin-day-tue = Mardi
admin-day-wed = Mercredi
admin-day-thu = Jeudi
admin-day-fri = Vendredi
admin-day-sat = Samedi
admin-day-sun = Dimanche
admin-from = De (UTC)
admin-to = À (UTC)
admin-from-2 = Puis de (UTC)
admin-to-2 = À (UTC), deuxième plage
admin-slot-minutes = Durée d'une consultation (minutes)
admin-weeks = Semaines à ouvrir
admin-availability-submit = Générer les créneaux
admin-form-faults = Rien n'a été enregistré : corrigez les champs signalés ci-dessous.
admin-time-invalid = Saisissez une heure au format hh:mm.
admin-time-pair = Saisissez le début et la fin de cette plage.
admin-end-before-start = La fin doit être après le début.
# $minutes: the length of a consultation.
admin-not-divisible = La plage doit contenir un nombre entier de consultations de { $minutes } minutes.
admin-overlap = Cette plage chevauche la première plage du même jour.
admin-slot-invalid = Saisissez une durée entre 5 et 480 minutes.
# $max: the most weeks at once.
admin-weeks-invalid = Saisissez un nombre de semaines entre 1 et { $max }.
admin-no-range = Saisissez au moins une plage horaire.
# $max: the most slots one generation makes.
admin-too-many-slots = Cela fait trop de créneaux d'un coup (au plus { $max }) : ouvrez moins de semaines ou des plages plus courtes.
# $count: slots made; $first, $last: the first and last slot's start (date and time, UTC).
admin-generated =
    { $count ->
        [one] { $count } créneau créé, le { $first }.
       *[other] { $count } créneaux créés, du { $first } au { $last }.
    }
admin-generated-none = Aucun nouveau créneau : ces créneaux existaient déjà.
# $count: free slots ahead; $first, $last: the first and last one's start (UTC).
admin-upcoming =
    { $count ->
        [one] { $count } créneau libre à venir, le { $first }.
       *[other] { $count } créneaux libres à venir, du { $first } au { $last }.
    }
admin-upcoming-none = Aucun créneau libre à venir.
