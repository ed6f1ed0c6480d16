# La console des opérateurs sur le domaine racine (shared/src/ops/console.rs). Pas de HTML : l'appelant échappe.

## Connexion (/ops/sign-in)

ops-sign-in-title = Connexion opérateur
ops-sign-in-intro = Réservé aux opérateurs de la plateforme. Les comptes des cliniques se connectent à l'adresse de leur clinique.
ops-email = E-mail
ops-password = Mot de passe
ops-sign-in-submit = Se connecter
ops-sign-in-refused = E-mail ou mot de passe incorrect.
ops-sign-in-locked =
    { $minutes ->
        [one] Trop d'échecs : réessayez dans { $minutes } minute.
       *[other] Trop d'échecs : réessayez dans { $minutes } minutes.
    }
ops-signed-in-as = Connecté : { $name }
ops-sign-out = Se déconnecter

## Cliniques (/ops/tenants)

ops-tenants-title = Cliniques
ops-tenants-empty = Aucune clinique ne correspond.
ops-filter-status = Statut
ops-filter-all = Tous
ops-filter-submit = Filtrer
ops-status-active = Active
ops-status-suspended = Suspendue
ops-col-slug = Identifiant
ops-col-name = Nom
ops-col-status = Statut
ops-col-plan = Formule
ops-col-region = Région d'hébergement
ops-col-domains = Domaines
ops-col-country = Pays
ops-col-locale = Langue par défaut
ops-col-created = Créée le
ops-next-page = Cliniques suivantes
ops-domain-pending = en attente de vérification
ops-domain-verified = vérifié
ops-back = Retour aux cliniques

## Une clinique (/ops/tenants/<slug>)

ops-tenant-title = { $name } ({ $slug })
ops-plan-title = Formule
ops-plan-submit = Changer de formule
ops-suspend-title = Suspendre
ops-suspend-confirm = Je confirme : suspendre { $slug }. Ses pages et son API répondront qu'elle est suspendue.
ops-suspend-submit = Suspendre la clinique
ops-resume-title = Réactiver
ops-resume-confirm = Je confirme : servir à nouveau { $slug }.
ops-resume-submit = Réactiver la clinique
ops-domains-title = Domaines personnalisés
ops-domain-label = Domaine (par ex. www.clinique.example)
ops-domain-add-submit = Ajouter le domaine
ops-domain-publish = Publiez cet enregistrement DNS, puis vérifiez :
ops-domain-verify-submit = Vérifier maintenant
ops-domain-remove-submit = Retirer
ops-delete-title = Supprimer
ops-delete-warning = La suppression exporte toutes les tables de la clinique, puis efface ses données dans sa région d'hébergement et la retire de l'annuaire partout. Suspendez-la d'abord. C'est irréversible.
ops-delete-confirm-label = Tapez { $slug } pour confirmer
ops-delete-submit = Exporter et supprimer
ops-deleted-title = Clinique supprimée
ops-deleted-body =
    { $rows ->
        [one] { $slug } a été exportée dans { $directory } en { $region } ({ $rows } ligne), puis supprimée.
       *[other] { $slug } a été exportée dans { $directory } en { $region } ({ $rows } lignes), puis supprimée.
    }

## Avis après une modification

ops-notice-updated = Enregistré.
ops-notice-suspended = La clinique est suspendue. Les serveurs de bordure suivent en moins d'une minute.
ops-notice-resumed = La clinique est de nouveau servie. Les serveurs de bordure suivent en moins d'une minute.
ops-notice-domain-added = Domaine ajouté : publiez son enregistrement DNS, puis vérifiez-le.
ops-notice-domain-verified = Domaine vérifié : il mène désormais à la clinique.
ops-notice-domain-removed = Domaine retiré.
ops-notice-unchanged = Rien à changer : c'était déjà le cas.

## Refus

ops-error-title = Non effectué
ops-error-generic = L'opération a été refusée ; rien n'a été modifié.
ops-error-bad-request = La demande n'est pas valide ; rien n'a été modifié.
ops-error-confirmation-required = Confirmez d'abord ; rien n'a été modifié.
ops-error-confirmation-mismatch = L'identifiant tapé ne correspond pas ; rien n'a été supprimé.
ops-error-unknown-clinic = Aucune clinique n'a cet identifiant.
ops-error-unknown-domain = Cette clinique n'a pas ce domaine.
ops-error-domain-taken = Ce domaine appartient à une autre clinique.
ops-error-bad-domain = Ce n'est pas un nom de domaine utilisable par une clinique.
ops-error-apex-domain = Le domaine de la plateforme et ses sous-domaines ne peuvent pas être le domaine d'une clinique.
ops-error-domain-not-verified = L'enregistrement DNS n'a pas encore été trouvé. Les changements DNS prennent du temps : réessayez plus tard.
ops-error-dns-failed = La résolution DNS a échoué : réessayez plus tard.
ops-error-not-suspended = Suspendez la clinique avant de la supprimer.
ops-error-legal-holds = Des patients de cette clinique font l'objet d'une conservation légale : elle ne peut pas être supprimée.
ops-error-bad-plan = Formule inconnue.
ops-error-bad-name = Le nom d'une clinique compte de 1 à 200 caractères.
ops-error-nothing-to-update = Rien à changer.
ops-error-already-exists = Cette clinique ou ce domaine existe déjà.
ops-error-operator-disabled = Votre compte opérateur est désactivé.
ops-error-unavailable = Le plan de contrôle est injoignable : réessayez dans un instant.
