# المبالغ بعملة أخرى (shared/src/web/price.rs). بلا HTML: المستدعي يهرّب النص.

# $amount: المبلغ التقديري منسّقًا؛ $date: تاريخ سعر الصرف.
price-estimate = ≈ { $amount } (سعر الصرف بتاريخ { $date })
price-estimate-stale = ≈ { $amount } (سعر الصرف بتاريخ { $date }، قديم: قد يختلف سعر اليوم)
# تحويل بسعر تعادل ثابت قانونيًا (اليورو والفرنك الأفريقي).
price-estimate-fixed = = { $amount } (سعر تعادل ثابت)
