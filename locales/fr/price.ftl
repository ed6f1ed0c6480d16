# Montants dans une autre devise (shared/src/web/price.rs). Pas de HTML : l’appelant échappe.

# $amount : l’estimation, formatée ; $date : la date du taux de change.
price-estimate = ≈ { $amount } (taux de change du { $date })
price-estimate-stale = ≈ { $amount } (taux de change du { $date }, périmé : le taux du jour peut différer)
# Une conversion à parité fixe légale (euro et franc CFA).
price-estimate-fixed = = { $amount } (parité fixe)
