# Le parcours de prise de rendez-vous (shared/src/web/booking.rs). Pas de HTML : l'appelant échappe.

## Dates et heures (UTC : le fuseau de la clinique n'est pas encore modélisé)

booking-times-in-utc = Les heures sont indiquées en UTC (temps universel coordonné).

## La page du praticien

booking-next-slots = Prochains créneaux disponibles
booking-no-slots = Aucun créneau libre dans les semaines à venir. Revenez plus tard.
booking-back-home = Retour à l'accueil de la clinique

## Le formulaire de réservation

booking-title = Prendre rendez-vous
# $practitioner : le nom du praticien.
booking-with = Avec { $practitioner }
booking-submit = Confirmer le rendez-vous
booking-choose-another = Choisir un autre créneau
booking-fix-errors = Des informations manquent ou sont incorrectes : voir les messages ci-dessous.
booking-refused = La clinique n'a pas pu enregistrer ce rendez-vous. Vérifiez vos informations et réessayez.
# $name : le nom du patient connecté.
booking-as = Vous réservez en tant que { $name }.
booking-optional = (facultatif)
booking-details = Vos informations
booking-given = Prénom
booking-family = Nom de naissance
booking-birth-date = Date de naissance
booking-gender = Sexe
booking-gender-choose = Choisir…
booking-gender-female = Féminin
booking-gender-male = Masculin
booking-gender-other = Autre
booking-gender-unknown = Je préfère ne pas le dire
booking-national-id-fr-nir = Numéro de sécurité sociale (NIR)
booking-national-id-za-id = Numéro d'identité sud-africain
booking-national-id-us-ssn = Numéro de sécurité sociale américain (SSN)
booking-account = Votre compte
booking-account-intro = Votre compte vous permet de consulter vos rendez-vous et de les annuler.
booking-email = Adresse e-mail
booking-password = Mot de passe
booking-password-hint = Au moins 12 caractères.
booking-consents = Consentement
booking-consent-telemedicine = J'accepte d'être pris en charge par téléconsultation (consultation vidéo).
# $kind : le code du consentement.
booking-consent-other = Je donne mon consentement : { $kind }
# $source : la règle sur laquelle repose le consentement.
booking-consent-source = Exigé par : { $source }

## Erreurs à côté des champs

booking-given-missing = Saisissez votre prénom.
booking-given-invalid = Vérifiez votre prénom.
booking-family-missing = Saisissez votre nom de naissance.
booking-family-invalid = Vérifiez votre nom de naissance.
booking-birth-date-missing = Saisissez votre date de naissance.
booking-birth-date-invalid = Saisissez une date de naissance valide, qui ne soit pas dans le futur.
booking-gender-missing = Choisissez votre sexe.
booking-gender-invalid = Choisissez l'une des options.
booking-national-id-missing = Saisissez votre numéro d'identification.
booking-national-id-invalid = Ce numéro n'est pas valide. Vérifiez-le ou laissez le champ vide.
booking-email-missing = Saisissez votre adresse e-mail.
booking-email-invalid = Saisissez une adresse e-mail valide, comme nom@exemple.fr.
booking-email-taken = Un compte utilise déjà cette adresse e-mail. Connectez-vous pour réserver avec ce compte.
booking-password-missing = Choisissez un mot de passe.
booking-password-rule = Votre mot de passe doit comporter entre 12 et 256 caractères.
booking-consent-missing = Votre consentement est nécessaire pour réserver une téléconsultation.

## Un créneau pris entre-temps

booking-slot-taken = Désolé, ce créneau vient d'être réservé par quelqu'un d'autre. Choisissez un autre créneau.
booking-other-slots = Autres créneaux disponibles
# $practitioner : le nom du praticien.
booking-see-practitioner = Voir tous les créneaux de { $practitioner }

## La confirmation

booking-confirmed-title = Votre rendez-vous est confirmé
booking-appointment-title = Votre rendez-vous
booking-date = Date et heure
booking-practitioner = Praticien
booking-status = Statut
booking-status-booked = Réservé
booking-status-arrived = Arrivé
booking-status-fulfilled = Effectué
booking-status-cancelled = Annulé
booking-status-noshow = Absence
booking-status-other = Autre
booking-add-to-calendar = Ajouter à mon agenda (.ics)
# Le titre de l'événement d'agenda. $clinic : le nom de la clinique.
booking-ics-summary = Téléconsultation — { $clinic }
# $practitioner : le nom du praticien.
booking-ics-summary-with = Téléconsultation avec { $practitioner } — { $clinic }
