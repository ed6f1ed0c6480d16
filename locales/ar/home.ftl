# الصفحة الرئيسية للعيادة (shared/src/web/home.rs)، إضافةً إلى رسائل home-* في main.ftl.

home-practitioners = أطباؤنا
home-no-practitioners = لا يوجد بعد أي طبيب يستقبل المواعيد عبر الإنترنت.

home-prices = الأسعار
home-price-consultation = الاستشارة
home-price-amount = السعر
