# Importes en otra moneda (shared/src/web/price.rs). Sin HTML: quien llama escapa.

# $amount: la estimación, con formato; $date: la fecha del tipo de cambio.
price-estimate = ≈ { $amount } (tipo de cambio del { $date })
price-estimate-stale = ≈ { $amount } (tipo de cambio del { $date }, desactualizado: el de hoy puede ser distinto)
# Una conversión a paridad fija legal (euro y franco CFA).
price-estimate-fixed = = { $amount } (paridad fija)
