# صفحات مدير العيادة (shared/src/web/admin). بلا HTML: المستدعي يتولى التهريب.

## لوحة التحكم (/admin)

admin-title = الإدارة
admin-intro = أدر ممارسي العيادة والأوقات التي يمكن للمرضى حجزهم فيها.
admin-back = العودة إلى الإدارة
admin-back-practitioners = العودة إلى الممارسين
# $count: how many practitioners the clinic has.
admin-practitioners-count =
    { $count ->
        [zero] لا يوجد ممارسون
        [one] ممارس واحد
        [two] ممارسان
        [few] { $count } ممارسين
        [many] { $count } ممارسًا
       *[other] { $count } ممارس
    }
# $count: how many of them are active.
admin-active-count = النشطون: { $count }
# $count: free slots from now on.
admin-free-slots-count =
    { $count ->
        [zero] لا توجد مواعيد شاغرة قادمة
        [one] موعد شاغر واحد قادم
        [two] موعدان شاغران قادمان
        [few] { $count } مواعيد شاغرة قادمة
        [many] { $count } موعدًا شاغرًا قادمًا
       *[other] { $count } موعد شاغر قادم
    }

## الممارسون (/admin/practitioners)

admin-practitioners-title = الممارسون
admin-practitioners-empty = لا يوجد ممارسون بعد. أضف أولهم أدناه.
admin-col-name = الاسم
admin-col-qualification = المؤهل
admin-col-status = الحالة
admin-col-slots = المواعيد الشاغرة القادمة
admin-col-actions = الإجراءات
admin-status-active = نشط
admin-status-inactive = غير نشط
admin-deactivate = إيقاف
admin-reactivate = إعادة التفعيل
admin-availability-link = أوقات التوفر
admin-add-title = إضافة ممارس
admin-given = الاسم الأول
admin-family = اسم العائلة
admin-qualification = المؤهل أو التخصص
admin-active = نشط: يمكن للمرضى حجز هذا الممارس
admin-add-submit = إضافة الممارس
admin-family-missing = أدخل اسم العائلة.
admin-too-long = هذا النص طويل جدًا.
admin-practitioner-refused = تعذّر حفظ هذه البيانات. تحقّق منها وحاول مرة أخرى.

## أوقات التوفر الأسبوعية (/admin/practitioners/{id}/availability)

# $name: the practitioner's name.
admin-availability-title = أوقات توفر { $name }
admin-added = تمت إضافة الممارس. حدّد الآن أوقات توفره الأسبوعية.
admin-weekly-title = أوقات التوفر الأسبوعية
admin-availability-intro = لكل يوم، أدخل فترتين زمنيتين على الأكثر يستقبل فيهما الممارس المرضى، ثم مدة الاستشارة وعدد الأسابيع المراد فتحها ابتداءً من الغد. جميع الأوقات بتوقيت UTC (التوقيت العالمي المنسق).
admin-day-mon = الاثنين
admin-day-tue = الثلاثاء
admin-day-wed = الأربعاء
admin-day-thu = الخميس
admin-day-fri = الجمعة
admin-day-sat = السبت
admin-day-sun = الأحد
admin-from = من (UTC)
admin-to = إلى (UTC)
admin-from-2 = ثم من (UTC)
admin-to-2 = إلى (UTC)، الفترة الثانية
admin-slot-minutes = مدة الاستشارة (بالدقائق)
admin-weeks = عدد الأسابيع
admin-availability-submit = إنشاء المواعيد
admin-form-faults = لم يُحفظ شيء: صحّح الحقول المشار إليها أدناه.
admin-time-invalid = أدخل الوقت بصيغة hh:mm.
admin-time-pair = أدخل بداية هذه الفترة ونهايتها.
admin-end-before-start = يجب أن تكون النهاية بعد البداية.
# $minutes: the length of a consultation.
admin-not-divisible = يجب أن تتسع الفترة لعدد صحيح من الاستشارات مدة كل منها { $minutes } دقيقة.
admin-overlap = هذه الفترة تتداخل مع الفترة الأولى من اليوم نفسه.
admin-slot-invalid = أدخل مدة بين 5 و480 دقيقة.
# $max: the most weeks at once.
admin-weeks-invalid = أدخل عدد أسابيع بين 1 و{ $max }.
admin-no-range = أدخل فترة زمنية واحدة على الأقل.
# $max: the most slots one generation makes.
admin-too-many-slots = هذا عدد كبير جدًا من المواعيد دفعة واحدة (الحد الأقصى { $max }): افتح أسابيع أقل أو فترات أقصر.
# $count: slots made; $first, $last: the first and last slot's start (date and time, UTC).
admin-generated =
    { $count ->
        [zero] لم يُنشأ أي موعد.
        [one] أُنشئ موعد واحد في { $first }.
        [two] أُنشئ موعدان، من { $first } إلى { $last }.
        [few] أُنشئت { $count } مواعيد، من { $first } إلى { $last }.
        [many] أُنشئ { $count } موعدًا، من { $first } إلى { $last }.
       *[other] أُنشئ { $count } موعد، من { $first } إلى { $last }.
    }
admin-generated-none = لا مواعيد جديدة: هذه المواعيد موجودة من قبل.
# $count: free slots ahead; $first, $last: the first and last one's start (UTC).
admin-upcoming =
    { $count ->
        [zero] لا توجد مواعيد شاغرة قادمة.
        [one] موعد شاغر واحد قادم في { $first }.
        [two] موعدان شاغران قادمان، من { $first } إلى { $last }.
        [few] { $count } مواعيد شاغرة قادمة، من { $first } إلى { $last }.
        [many] { $count } موعدًا شاغرًا قادمًا، من { $first } إلى { $last }.
       *[other] { $count } موعد شاغر قادم، من { $first } إلى { $last }.
    }
admin-upcoming-none = لا توجد مواعيد شاغرة قادمة.

## الأسعار (/admin/prices)

admin-prices-title = الأسعار
# $count: active prices.
admin-prices-count =
    { $count ->
        [zero] لا توجد أنواع استشارة مسعّرة
        [one] نوع استشارة واحد مسعّر
        [two] نوعا استشارة مسعّران
        [few] { $count } أنواع استشارة مسعّرة
        [many] { $count } نوعًا من الاستشارات مسعّرًا
       *[other] { $count } نوع استشارة مسعّر
    }
admin-prices-empty = لا توجد أسعار بعد.
admin-price-col-type = نوع الاستشارة
admin-price-col-code = الرمز
admin-price-col-amount = السعر
admin-price-retire = سحب
admin-price-set-title = تحديد سعر
admin-price-help = سعر واحد لكل نوع استشارة: تحديد سعر نوع له سعر يستبدله. الفواتير الصادرة تحتفظ بمبلغها.
admin-price-code = رمز نوع الاستشارة (حروف وأرقام وشرطات)
admin-price-display = اسم نوع الاستشارة
# $currency: the clinic's currency code (EUR, XOF…).
admin-price-amount = السعر ({ $currency })
admin-price-submit = حفظ السعر
admin-price-code-invalid = أدخل رمزًا من حروف لاتينية صغيرة وأرقام وشرطات.
admin-price-display-missing = أدخل الاسم الذي سيقرؤه المرضى.
admin-price-amount-invalid = أدخل مبلغًا مثل 45.50 بدون مسافات.
# $decimals: the currency's minor units.
admin-price-too-precise = تسمح هذه العملة بـ{ $decimals } منازل عشرية على الأكثر.
admin-price-not-positive = يجب أن يكون السعر أكبر من صفر.
admin-price-conflict = غيّر شخص آخر سعر هذا النوع للتو. راجع القائمة وحاول مرة أخرى.

## الحسابات (/admin/accounts)

admin-accounts-title = الحسابات
# $count: accounts that can sign in.
admin-accounts-count =
    { $count ->
        [zero] لا يوجد حساب يمكنه تسجيل الدخول
        [one] حساب واحد يمكنه تسجيل الدخول
        [two] حسابان يمكنهما تسجيل الدخول
        [few] { $count } حسابات يمكنها تسجيل الدخول
        [many] { $count } حسابًا يمكنها تسجيل الدخول
       *[other] { $count } حساب يمكنها تسجيل الدخول
    }
admin-account-col-email = البريد الإلكتروني
admin-account-col-name = الاسم
admin-account-col-role = الدور
admin-account-col-last = آخر تسجيل دخول (UTC)
admin-account-never = أبدًا
admin-account-disabled = معطّل
admin-account-disable = تعطيل
admin-account-enable = تفعيل
admin-role-patient = مريض
admin-role-practitioner = ممارس
admin-role-admin = مدير
admin-account-new-title = إنشاء حساب
admin-account-email = البريد الإلكتروني
admin-account-name = الاسم المعروض بعد تسجيل الدخول
admin-account-role = الدور
admin-account-practitioner = الممارس (لحساب ممارس)
admin-account-practitioner-none = لا أحد
# $min: the fewest characters a password has.
admin-account-password = كلمة المرور الأولية ({ $min } حرفًا على الأقل)
admin-account-submit = إنشاء الحساب
admin-account-email-invalid = أدخل بريدًا إلكترونيًا مثل name@example.com.
admin-account-email-taken = يوجد حساب يستخدم هذا البريد الإلكتروني.
admin-account-name-missing = أدخل الاسم.
admin-account-role-invalid = اختر ممارسًا أو مديرًا.
admin-account-practitioner-missing = اختر الممارس صاحب هذا الحساب.
# $min: the fewest characters.
admin-account-password-short = تحتاج كلمة المرور إلى { $min } حرفًا على الأقل.
# $max: the most characters.
admin-account-password-long = يمكن أن تضم كلمة المرور { $max } حرفًا على الأكثر.

## نوع الاستشارة للمواعيد المُنشأة

admin-service = نوع الاستشارة المعروض (الأنواع المسعّرة)
admin-service-none = لا شيء
admin-service-invalid = اختر نوع استشارة من القائمة.
