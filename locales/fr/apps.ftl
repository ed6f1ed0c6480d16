# La place de marché (shared/src/web/marketplace.rs) et la page des applications de
# l'administration (shared/src/web/admin/apps.rs). Pas de HTML : l'appelant échappe.

## Ce qu'une autorisation permet, en clair

apps-perm-c = créer
apps-perm-r = lire
apps-perm-u = modifier
apps-perm-d = supprimer
apps-perm-s = rechercher
apps-resource-patient = dossiers des patients
apps-resource-observation = mesures et relevés
apps-resource-appointment = rendez-vous
apps-resource-practitioner = profils des praticiens
apps-resource-schedule = agendas des praticiens
apps-resource-slot = créneaux libres et réservés
apps-resource-consent = consentements des patients
apps-resource-all = toutes les données de l'établissement
# $type : un type de ressource FHIR, par ex. Invoice.
apps-resource-other = enregistrements { $type }
# $perms : ce qu'elle peut faire ; $resource : sur quoi.
apps-scope = { $perms } : { $resource }
apps-patient-data = données de patients

## La place de marché (/marketplace)

# $clinic : le nom de l'établissement.
apps-marketplace-title = Applications pour { $clinic }
apps-marketplace-intro = Des applications que l'établissement peut relier à ses services. Chacune n'obtient que ce que l'établissement lui accorde.
apps-categories = Catégories
apps-category-all = Toutes
apps-category-iot = Objets connectés
apps-category-analytics = Analyse
apps-category-communication = Communication
apps-category-scheduling = Agenda
apps-category-billing = Facturation
apps-category-clinical = Clinique
apps-none = Aucune application dans cette catégorie pour l'instant.
# $developer : qui fait l'application.
apps-by = Par { $developer }
apps-free = Gratuite
# $amount : le prix formaté.
apps-monthly = { $amount } par mois
apps-asks = Ce à quoi elle demande accès
apps-webhook-note = Elle est prévenue des événements qu'elle peut lire.

## Les applications de l'administration (/admin/apps)

apps-admin-title = Applications
# $count : applications installées.
apps-installed-count =
    { $count ->
        [one] { $count } application installée
       *[other] { $count } applications installées
    }
apps-marketplace-link = Voir la place de marché publique
apps-installed-title = Installées
apps-installed-none = Aucune application n'est installée.
apps-available-title = Disponibles
apps-available-none = Aucune autre application n'est disponible.
# $who : qui l'a installée ; $when : quand.
apps-installed-by = Installée par { $who } le { $when }
# $who : qui l'a désinstallée ; $when : quand.
apps-uninstalled-by = Désinstallée par { $who } le { $when }
apps-granted = Accès accordés
apps-config = Réglages (JSON)
apps-config-help = Un objet JSON de noms et de valeurs, par ex. "unit": "mmol/L" entre accolades ; laisser vide pour aucun.
apps-config-save = Enregistrer les réglages
apps-uninstall-confirm = J'ai compris : l'application perd ses accès immédiatement.
apps-uninstall = Désinstaller
apps-grant-legend = Accès à accorder
apps-install = Installer
# $kind : le code du consentement.
apps-consent-note = Les accès marqués « données de patients » ne servent que sous le consentement de chaque patient ({ $kind }).
apps-consent-none = Les règles de cet établissement ne permettent pas de partager des données de patients avec des applications : seuls les autres accès peuvent être accordés.
apps-grant-empty = Choisissez au moins un accès à accorder.
# $scope : l'accès en clair.
apps-grant-no-consent = Les règles de cet établissement ne permettent pas d'accorder « { $scope } » : cet accès touche aux données de patients.
apps-grant-not-requested = L'application n'a pas demandé cet accès.
# $why : ce qui ne va pas dans les réglages.
apps-config-invalid = Ces réglages ne peuvent pas être enregistrés : { $why }
apps-uninstall-unconfirmed = Cochez la case pour confirmer la désinstallation.
apps-not-installable = Cette application ne peut pas être installée avec ces accès : elle n'est plus disponible ou ne les a pas demandés.
apps-not-installed = Cette application n'est pas installée.
apps-done-installed = L'application est installée.
apps-done-uninstalled = L'application est désinstallée : ses accès sont révoqués.
apps-done-configured = Les réglages sont enregistrés.
