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

## Tarifs (/admin/prices)

admin-prices-title = Tarifs
# $count: active prices.
admin-prices-count =
    { $count ->
        [one] { $count } type de consultation tarifé
       *[other] { $count } types de consultation tarifés
    }
admin-prices-empty = Aucun tarif pour l'instant.
admin-price-col-type = Type de consultation
admin-price-col-code = Code
admin-price-col-amount = Tarif
admin-price-retire = Retirer
admin-price-set-title = Fixer un tarif
admin-price-help = Un tarif par type de consultation : fixer le tarif d'un type qui en a déjà un le remplace. Les factures déjà émises gardent leur montant.
admin-price-code = Code du type de consultation (lettres, chiffres, tirets)
admin-price-display = Nom du type de consultation
# $currency: the clinic's currency code (EUR, XOF…).
admin-price-amount = Tarif ({ $currency })
admin-price-submit = Enregistrer le tarif
admin-price-code-invalid = Saisissez un code en lettres minuscules, chiffres et tirets.
admin-price-display-missing = Saisissez le nom que liront les patients.
admin-price-amount-invalid = Saisissez un montant comme 45,50, sans espaces.
# $decimals: the currency's minor units.
admin-price-too-precise = Cette devise admet au plus { $decimals } décimales.
admin-price-not-positive = Un tarif est supérieur à zéro.
admin-price-conflict = Le tarif de ce type vient d'être modifié par quelqu'un d'autre. Vérifiez la liste et réessayez.

## Comptes (/admin/accounts)

admin-accounts-title = Comptes
# $count: accounts that can sign in.
admin-accounts-count =
    { $count ->
        [one] { $count } compte peut se connecter
       *[other] { $count } comptes peuvent se connecter
    }
admin-account-col-email = Adresse e-mail
admin-account-col-name = Nom
admin-account-col-role = Rôle
admin-account-col-last = Dernière connexion (UTC)
admin-account-never = Jamais
admin-account-disabled = Désactivé
admin-account-disable = Désactiver
admin-account-enable = Réactiver
admin-role-patient = Patient
admin-role-practitioner = Praticien
admin-role-admin = Administrateur
admin-account-new-title = Créer un compte
admin-account-email = Adresse e-mail
admin-account-name = Nom affiché une fois connecté
admin-account-role = Rôle
admin-account-practitioner = Praticien (pour le compte d'un praticien)
admin-account-practitioner-none = Aucun
# $min: the fewest characters a password has.
admin-account-password = Mot de passe initial (au moins { $min } caractères)
admin-account-submit = Créer le compte
admin-account-email-invalid = Saisissez une adresse e-mail comme nom@exemple.fr.
admin-account-email-taken = Un compte utilise déjà cette adresse e-mail.
admin-account-name-missing = Saisissez le nom.
admin-account-role-invalid = Choisissez praticien ou administrateur.
admin-account-practitioner-missing = Choisissez le praticien à qui est ce compte.
# $min: the fewest characters.
admin-account-password-short = Le mot de passe doit compter au moins { $min } caractères.
# $max: the most characters.
admin-account-password-long = Le mot de passe peut compter au plus { $max } caractères.

## Type de consultation des créneaux générés

admin-service = Type de consultation proposé (types tarifés)
admin-service-none = Aucun
admin-service-invalid = Choisissez un type de consultation de la liste.
