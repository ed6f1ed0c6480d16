# Amounts in another currency (shared/src/web/price.rs). No HTML: the caller escapes.

# $amount: the estimate, formatted; $date: the exchange rate's date.
price-estimate = ≈ { $amount } (exchange rate of { $date })
price-estimate-stale = ≈ { $amount } (exchange rate of { $date }, out of date: today's may differ)
# A conversion at a legal fixed parity (euro and CFA franc).
price-estimate-fixed = = { $amount } (fixed parity)
