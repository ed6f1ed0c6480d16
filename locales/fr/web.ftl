# Pages avec formulaires et sessions (shared/src/web). Pas de HTML : l’appelant échappe.

## La barre au-dessus de chaque page dynamique

# $name : le nom de la personne connectée.
web-signed-in-as = Connecté·e en tant que { $name }
web-my-space = Mon espace
web-sign-out = Se déconnecter
web-sign-in = Se connecter

## Refus

web-forbidden-title = Accès refusé
web-forbidden-body = Votre compte ne permet pas d’ouvrir cette page. Connectez-vous avec un autre compte ou revenez à votre espace.
web-expired-title = Ce formulaire a expiré
web-expired-body = Pour votre sécurité, le formulaire n’a pas pu être accepté. Revenez en arrière, rechargez la page et envoyez-le à nouveau.

## Connexion (/sign-in)

sign-in-title = Connexion
sign-in-email = Adresse e-mail
sign-in-password = Mot de passe
sign-in-submit = Se connecter
sign-in-email-missing = Saisissez votre adresse e-mail.
sign-in-password-missing = Saisissez votre mot de passe.
sign-in-refused = L’adresse e-mail ou le mot de passe est incorrect.
# $minutes : délai avant la prochaine tentative.
sign-in-locked =
    { $minutes ->
        [one] Trop de tentatives. Réessayez dans { $minutes } minute.
       *[other] Trop de tentatives. Réessayez dans { $minutes } minutes.
    }
