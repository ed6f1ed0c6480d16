# Messages of Telemed Edge — العربية (الفصحى المعاصرة).
# Contain no HTML: the caller escapes the formatted text. Every id here must exist, with the
# same variables, in every locale (checked by the tests of shared/src/i18n.rs).

## Locale metadata, read by the code (Locale::autonym, Locale::dir).

locale-name = العربية
# `ltr` or `rtl`: the <html dir> of pages in this locale.
locale-direction = rtl

## Home page

# Page title. $clinic: the clinic's name.
home-title = { $clinic } — استشارات طبية عن بُعد
# $clinic: the clinic's name.
home-greeting = مرحبًا بكم في { $clinic }
home-intro = استشر طبيبًا عبر الإنترنت، بلغتك، وبكل أمان.
home-book = احجز موعدًا
language-switcher-label = اللغة
# $count: a number of patients. Arabic uses all six CLDR plural categories:
# zero (0), one (1), two (2), few (3–10, 103–110…), many (11–99, 111–199…), other (100, 101, 102…).
patients-count =
    { $count ->
        [zero] لا يوجد مرضى
        [one] مريض واحد
        [two] مريضان
        [few] { $count } مرضى
        [many] { $count } مريضًا
       *[other] { $count } مريض
    }

## Error pages

not-found-title = الصفحة غير موجودة
not-found-body = لا توجد عيادة أو صفحة بهذا العنوان. يُرجى التحقق من الرابط والمحاولة مرة أخرى.
clinic-suspended-title = العيادة غير متاحة مؤقتًا
clinic-suspended-body = علّقت هذه العيادة استشاراتها عبر الإنترنت. في حالات الطوارئ، اتصل بخدمات الطوارئ في بلدك.
bad-request-title = طلب غير صالح
bad-request-body = أرسل متصفحك طلبًا يتعذّر علينا معالجته. يُرجى التحقق من العنوان والمحاولة مرة أخرى.
error-title = حدث خطأ
error-body = تمنعنا مشكلة مؤقتة من عرض هذه الصفحة. يُرجى المحاولة مرة أخرى بعد لحظات.
unavailable-title = الخدمة غير متاحة مؤقتًا
unavailable-body = الخدمة قيد الصيانة أو تشهد ضغطًا كبيرًا. يُرجى المحاولة مرة أخرى بعد بضع دقائق.

## Footer

footer-privacy = تُخزَّن بياناتك الصحية وتُحمى وفقًا لقوانين حماية البيانات المعمول بها في بلد عيادتك.

## Country policy (GET /v1/policy)

policy-regulation = التنظيم المعمول به
policy-required-patient-fields = الحقول الإلزامية في ملف المريض
policy-consents = الموافقات والمعالجات التي تشترطها
policy-retention = مدة الاحتفاظ بالملفات الطبية
policy-national-identifier = رقم الهوية الوطنية للمريض
policy-encrypt-identifiers = تشفير أرقام الهوية الوطنية
policy-breach-notice = مهلة الإبلاغ عن خرق البيانات
policy-hosting = المناطق المسموح باستضافة البيانات فيها

## Erasure (POST /v1/patients/{id}/$erase)

erase-medical-record = الملف الطبي
erase-contact-details = بيانات الاتصال
erase-unheld-appointments = مواعيد لم تُقدَّم فيها رعاية
erase-cached-responses = نسخ مخزنة من الردود
erase-webhook-events = أحداث خطافات الويب المتعلقة بالمريض
