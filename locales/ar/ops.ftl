# وحدة تحكم المشغّلين على النطاق الرئيسي (shared/src/ops/console.rs). بلا HTML: المستدعي يتولى التهريب.

## تسجيل الدخول (/ops/sign-in)

ops-sign-in-title = دخول المشغّل
ops-sign-in-intro = مخصص لمشغّلي المنصة فقط. تسجّل حسابات العيادات دخولها على عنوان عيادتها.
ops-email = البريد الإلكتروني
ops-password = كلمة المرور
ops-sign-in-submit = تسجيل الدخول
ops-sign-in-refused = البريد الإلكتروني أو كلمة المرور غير صحيحة.
ops-sign-in-locked =
    { $minutes ->
        [zero] محاولات فاشلة كثيرة: أعد المحاولة بعد { $minutes } دقيقة.
        [one] محاولات فاشلة كثيرة: أعد المحاولة بعد دقيقة واحدة.
        [two] محاولات فاشلة كثيرة: أعد المحاولة بعد دقيقتين.
        [few] محاولات فاشلة كثيرة: أعد المحاولة بعد { $minutes } دقائق.
        [many] محاولات فاشلة كثيرة: أعد المحاولة بعد { $minutes } دقيقة.
       *[other] محاولات فاشلة كثيرة: أعد المحاولة بعد { $minutes } دقيقة.
    }
ops-signed-in-as = متصل باسم { $name }
ops-sign-out = تسجيل الخروج

## العيادات (/ops/tenants)

ops-tenants-title = العيادات
ops-tenants-empty = لا توجد عيادة مطابقة.
ops-filter-status = الحالة
ops-filter-all = الكل
ops-filter-submit = تصفية
ops-status-active = نشطة
ops-status-suspended = معلّقة
ops-col-slug = المعرّف
ops-col-name = الاسم
ops-col-status = الحالة
ops-col-plan = الباقة
ops-col-region = منطقة الاستضافة
ops-col-domains = النطاقات
ops-col-country = البلد
ops-col-locale = اللغة الافتراضية
ops-col-created = تاريخ الإنشاء
ops-next-page = العيادات التالية
ops-domain-pending = بانتظار التحقق
ops-domain-verified = تم التحقق
ops-back = العودة إلى العيادات

## عيادة واحدة (/ops/tenants/<slug>)

ops-tenant-title = { $name } ({ $slug })
ops-plan-title = الباقة
ops-plan-submit = تغيير الباقة
ops-suspend-title = تعليق
ops-suspend-confirm = أؤكد: تعليق { $slug }. ستجيب صفحاتها وواجهتها البرمجية بأنها معلّقة.
ops-suspend-submit = تعليق العيادة
ops-resume-title = استئناف
ops-resume-confirm = أؤكد: إعادة تشغيل { $slug }.
ops-resume-submit = استئناف العيادة
ops-domains-title = النطاقات المخصصة
ops-domain-label = النطاق (مثل www.clinic.example)
ops-domain-add-submit = إضافة النطاق
ops-domain-publish = انشر سجل DNS هذا، ثم تحقّق:
ops-domain-verify-submit = تحقّق الآن
ops-domain-remove-submit = إزالة
ops-delete-title = حذف
ops-delete-warning = يصدّر الحذف كل جداول العيادة، ثم يمحو بياناتها في منطقة استضافتها ويزيلها من الدليل في كل مكان. علّقها أولًا. لا يمكن التراجع عن ذلك.
ops-delete-confirm-label = اكتب { $slug } للتأكيد
ops-delete-submit = تصدير ثم حذف
ops-deleted-title = حُذفت العيادة
ops-deleted-body =
    { $rows ->
        [zero] صُدّرت { $slug } إلى { $directory } في { $region } (لا صفوف)، ثم حُذفت.
        [one] صُدّرت { $slug } إلى { $directory } في { $region } (صف واحد)، ثم حُذفت.
        [two] صُدّرت { $slug } إلى { $directory } في { $region } (صفّان)، ثم حُذفت.
        [few] صُدّرت { $slug } إلى { $directory } في { $region } ({ $rows } صفوف)، ثم حُذفت.
        [many] صُدّرت { $slug } إلى { $directory } في { $region } ({ $rows } صفًا)، ثم حُذفت.
       *[other] صُدّرت { $slug } إلى { $directory } في { $region } ({ $rows } صف)، ثم حُذفت.
    }

## إشعارات بعد التغيير

ops-notice-updated = تم الحفظ.
ops-notice-suspended = العيادة معلّقة. تلتزم خوادم الحافة بذلك خلال دقيقة.
ops-notice-resumed = العيادة تعمل من جديد. تلتزم خوادم الحافة بذلك خلال دقيقة.
ops-notice-domain-added = أُضيف النطاق: انشر سجل DNS الخاص به، ثم تحقّق منه.
ops-notice-domain-verified = تم التحقق من النطاق: صار يقود إلى العيادة.
ops-notice-domain-removed = أُزيل النطاق.
ops-notice-unchanged = لا شيء للتغيير: كان كذلك من قبل.

## الرفض

ops-error-title = لم يتم
ops-error-generic = رُفضت العملية؛ لم يتغير شيء.
ops-error-bad-request = الطلب غير صالح؛ لم يتغير شيء.
ops-error-confirmation-required = أكّد أولًا؛ لم يتغير شيء.
ops-error-confirmation-mismatch = المعرّف المكتوب غير مطابق؛ لم يُحذف شيء.
ops-error-unknown-clinic = لا توجد عيادة بهذا المعرّف.
ops-error-unknown-domain = ليس لهذه العيادة هذا النطاق.
ops-error-domain-taken = هذا النطاق تابع لعيادة أخرى.
ops-error-bad-domain = هذا ليس اسم نطاق يمكن لعيادة استخدامه.
ops-error-apex-domain = لا يمكن أن يكون نطاق المنصة أو نطاقاته الفرعية نطاقًا لعيادة.
ops-error-domain-not-verified = لم يُعثر على سجل DNS بعد. تستغرق تغييرات DNS وقتًا: أعد المحاولة لاحقًا.
ops-error-dns-failed = فشل استعلام DNS: أعد المحاولة لاحقًا.
ops-error-not-suspended = علّق العيادة قبل حذفها.
ops-error-legal-holds = مرضى هذه العيادة تحت حفظ قانوني: لا يمكن حذفها.
ops-error-bad-plan = باقة غير معروفة.
ops-error-bad-name = يتكوّن اسم العيادة من 1 إلى 200 حرف.
ops-error-nothing-to-update = لا شيء للتغيير.
ops-error-already-exists = هذه العيادة أو هذا النطاق موجود بالفعل.
ops-error-operator-disabled = حساب المشغّل الخاص بك معطّل.
ops-error-unavailable = يتعذّر الوصول إلى مستوى التحكم الآن: أعد المحاولة بعد قليل.
