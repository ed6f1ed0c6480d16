# Messages of Telemed Edge — français (langue de repli : tout message manquant ailleurs
# est pris ici).
# Contain no HTML: the caller escapes the formatted text. Every id here must exist, with the
# same variables, in every locale (checked by the tests of shared/src/i18n.rs).

## Locale metadata, read by the code (Locale::autonym, Locale::dir).

locale-name = Français
# `ltr` or `rtl`: the <html dir> of pages in this locale.
locale-direction = ltr

## Home page

# Page title. $clinic: the clinic's name.
home-title = { $clinic } — Téléconsultation
# $clinic: the clinic's name.
home-greeting = Bienvenue chez { $clinic }
home-intro = Consultez un médecin en ligne, dans votre langue, en toute sécurité.
home-book = Prendre rendez-vous
language-switcher-label = Langue
# $count: a number of patients.
patients-count =
    { $count ->
        [one] { $count } patient
       *[other] { $count } patients
    }

## Error pages

not-found-title = Page introuvable
not-found-body = Aucune clinique ni aucune page ne correspond à cette adresse. Vérifiez le lien et réessayez.
clinic-suspended-title = Clinique momentanément indisponible
clinic-suspended-body = Cette clinique a suspendu ses consultations en ligne. En cas d’urgence, contactez les services d’urgence de votre pays.
bad-request-title = Requête invalide
bad-request-body = Votre navigateur a envoyé une requête que nous ne pouvons pas traiter. Vérifiez l’adresse et réessayez.
error-title = Une erreur est survenue
error-body = Un problème temporaire nous empêche d’afficher cette page. Veuillez réessayer dans quelques instants.
unavailable-title = Service momentanément indisponible
unavailable-body = Le service est en maintenance ou surchargé. Veuillez réessayer dans quelques minutes.

## Footer

footer-privacy = Vos données de santé sont hébergées et protégées conformément à la législation sur la protection des données du pays de votre clinique.

## Country policy (GET /v1/policy)

policy-regulation = Réglementation
policy-required-patient-fields = Champs obligatoires du dossier patient
policy-consents = Consentements et traitements qu’ils conditionnent
policy-retention = Durée de conservation des dossiers médicaux
policy-national-identifier = Identifiant national du patient
policy-encrypt-identifiers = Chiffrement des identifiants nationaux
policy-breach-notice = Délai de notification d’une violation de données
policy-hosting = Régions d’hébergement autorisées

## Effacement (POST /v1/patients/{id}/$erase)

erase-medical-record = Dossier médical
erase-contact-details = Coordonnées
erase-unheld-appointments = Rendez-vous sans soin (futurs ou annulés)
erase-cached-responses = Copies de réponses en cache
erase-webhook-events = Événements webhook concernant le patient
