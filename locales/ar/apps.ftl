# سوق التطبيقات (shared/src/web/marketplace.rs) وصفحة تطبيقات الإدارة
# (shared/src/web/admin/apps.rs). بلا HTML: المستدعي يهرّب النص.

## ما يسمح به الإذن، بكلمات واضحة

apps-perm-c = إنشاء
apps-perm-r = قراءة
apps-perm-u = تعديل
apps-perm-d = حذف
apps-perm-s = بحث
apps-resource-patient = ملفات المرضى
apps-resource-observation = القياسات والقراءات
apps-resource-appointment = المواعيد
apps-resource-practitioner = ملفات الممارسين
apps-resource-schedule = جداول الممارسين
apps-resource-slot = الفترات المتاحة والمحجوزة
apps-resource-consent = موافقات المرضى
apps-resource-all = كل بيانات العيادة
# $type: نوع مورد FHIR، مثل Invoice.
apps-resource-other = سجلات { $type }
# $perms: ما يمكنه فعله؛ $resource: على ماذا.
apps-scope = { $perms }: { $resource }
apps-patient-data = بيانات المرضى

## سوق التطبيقات (/marketplace)

# $clinic: اسم العيادة.
apps-marketplace-title = تطبيقات { $clinic }
apps-marketplace-intro = تطبيقات يمكن للعيادة ربطها بخدماتها. لا يحصل كل تطبيق إلا على ما تمنحه العيادة.
apps-categories = الفئات
apps-category-all = الكل
apps-category-iot = الأجهزة المتصلة
apps-category-analytics = التحليلات
apps-category-communication = التواصل
apps-category-scheduling = المواعيد والجداول
apps-category-billing = الفوترة
apps-category-clinical = سريري
apps-none = لا توجد تطبيقات في هذه الفئة بعد.
# $developer: مطوّر التطبيق.
apps-by = من { $developer }
apps-free = مجاني
# $amount: السعر المنسّق.
apps-monthly = { $amount } شهريًا
apps-asks = ما يطلب الوصول إليه
apps-webhook-note = يُبلَّغ بالأحداث التي يحق له قراءتها.

## تطبيقات الإدارة (/admin/apps)

apps-admin-title = التطبيقات
# $count: عدد التطبيقات المثبتة.
apps-installed-count =
    { $count ->
        [zero] لا تطبيقات مثبتة
        [one] تطبيق واحد مثبت
        [two] تطبيقان مثبتان
        [few] { $count } تطبيقات مثبتة
        [many] { $count } تطبيقًا مثبتًا
       *[other] { $count } تطبيق مثبت
    }
apps-marketplace-link = عرض سوق التطبيقات العام
apps-installed-title = المثبتة
apps-installed-none = لا يوجد أي تطبيق مثبت.
apps-available-title = المتاحة
apps-available-none = لا توجد تطبيقات أخرى متاحة.
# $who: من ثبّته؛ $when: متى.
apps-installed-by = ثبّته { $who } في { $when }
# $who: من أزال تثبيته؛ $when: متى.
apps-uninstalled-by = أزال تثبيته { $who } في { $when }
apps-granted = الوصول الممنوح
apps-config = الإعدادات (JSON)
apps-config-help = كائن JSON من أسماء وقيم، مثل "unit": "mmol/L" بين قوسين معقوصين؛ اتركه فارغًا إن لم توجد إعدادات.
apps-config-save = حفظ الإعدادات
apps-uninstall-confirm = أفهم أن التطبيق يفقد وصوله فورًا.
apps-uninstall = إزالة التثبيت
apps-grant-legend = الوصول المراد منحه
apps-install = تثبيت
# $kind: رمز الموافقة.
apps-consent-note = لا يُستخدم الوصول الموسوم «بيانات المرضى» إلا بموافقة كل مريض ({ $kind }).
apps-consent-none = لا تسمح قواعد هذه العيادة بمشاركة بيانات المرضى مع التطبيقات: لا يمكن منح إلا الوصول الآخر.
apps-grant-empty = اختر وصولًا واحدًا على الأقل لمنحه.
# $scope: الوصول بكلمات واضحة.
apps-grant-no-consent = لا تسمح قواعد هذه العيادة بمنح «{ $scope }»: فهو يصل إلى بيانات المرضى.
apps-grant-not-requested = لم يطلب التطبيق هذا الوصول.
# $why: ما الخطأ في الإعدادات.
apps-config-invalid = لا يمكن حفظ هذه الإعدادات: { $why }
apps-uninstall-unconfirmed = ضع علامة في المربع لتأكيد إزالة التثبيت.
apps-not-installable = لا يمكن تثبيت هذا التطبيق بهذا الوصول: لم يعد متاحًا أو لم يطلبه.
apps-not-installed = هذا التطبيق غير مثبت.
apps-done-installed = تم تثبيت التطبيق.
apps-done-uninstalled = أُزيل تثبيت التطبيق وأُلغي وصوله.
apps-done-configured = حُفظت الإعدادات.
