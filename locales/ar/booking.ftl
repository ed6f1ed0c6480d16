# مسار حجز موعد (shared/src/web/booking.rs). بلا HTML: المستدعي يهرّب النص.

## التواريخ والأوقات (بالتوقيت العالمي: المنطقة الزمنية للعيادة غير مُنمذجة بعد)

booking-times-in-utc = الأوقات معروضة بالتوقيت العالمي المنسق (UTC).

## صفحة الطبيب

booking-next-slots = أقرب المواعيد المتاحة
booking-no-slots = لا توجد مواعيد متاحة في الأسابيع القادمة. يُرجى العودة لاحقًا.
booking-back-home = العودة إلى الصفحة الرئيسية للعيادة

## استمارة الحجز

booking-title = حجز موعد
# $practitioner: اسم الطبيب.
booking-with = مع { $practitioner }
booking-submit = تأكيد الموعد
booking-choose-another = اختيار موعد آخر
booking-fix-errors = بعض المعلومات ناقصة أو غير صحيحة: راجع الرسائل أدناه.
booking-refused = تعذّر على العيادة تسجيل هذا الموعد. تحقّق من معلوماتك وحاول مرة أخرى.
# $name: اسم المريض المسجَّل دخوله.
booking-as = أنت تحجز باسم { $name }.
booking-optional = (اختياري)
booking-details = معلوماتك
booking-given = الاسم الشخصي
booking-family = اسم العائلة
booking-birth-date = تاريخ الميلاد
booking-gender = الجنس
booking-gender-choose = اختر…
booking-gender-female = أنثى
booking-gender-male = ذكر
booking-gender-other = آخر
booking-gender-unknown = أفضّل عدم الإفصاح
booking-national-id-fr-nir = رقم الضمان الاجتماعي الفرنسي (NIR)
booking-national-id-za-id = رقم الهوية الجنوب أفريقي
booking-national-id-us-ssn = رقم الضمان الاجتماعي الأمريكي (SSN)
booking-account = حسابك
booking-account-intro = يتيح لك حسابك الاطلاع على مواعيدك وإلغاءها.
booking-email = البريد الإلكتروني
booking-password = كلمة المرور
booking-password-hint = 12 حرفًا على الأقل.
booking-consents = الموافقة
booking-consent-telemedicine = أوافق على تلقي الرعاية عن طريق الاستشارة عن بُعد (استشارة بالفيديو).
# $kind: رمز الموافقة.
booking-consent-other = أعطي موافقتي: { $kind }
# $source: القاعدة التي تستند إليها الموافقة.
booking-consent-source = مطلوبة بموجب: { $source }

## أخطاء بجانب الحقول

booking-given-missing = أدخل اسمك الشخصي.
booking-given-invalid = تحقّق من اسمك الشخصي.
booking-family-missing = أدخل اسم عائلتك.
booking-family-invalid = تحقّق من اسم عائلتك.
booking-birth-date-missing = أدخل تاريخ ميلادك.
booking-birth-date-invalid = أدخل تاريخ ميلاد صحيحًا، ليس في المستقبل.
booking-gender-missing = اختر جنسك.
booking-gender-invalid = اختر أحد الخيارات.
booking-national-id-missing = أدخل رقم هويتك.
booking-national-id-invalid = هذا الرقم غير صالح. تحقّق منه أو اترك الحقل فارغًا.
booking-email-missing = أدخل بريدك الإلكتروني.
booking-email-invalid = أدخل بريدًا إلكترونيًا صالحًا، مثل name@example.com.
booking-email-taken = يوجد حساب يستخدم هذا البريد الإلكتروني بالفعل. سجّل الدخول للحجز به.
booking-password-missing = اختر كلمة مرور.
booking-password-rule = يجب أن تتكوّن كلمة المرور من 12 إلى 256 حرفًا.
booking-consent-missing = موافقتك ضرورية لحجز استشارة عن بُعد.

## موعد حُجز في الأثناء

booking-slot-taken = عذرًا، حجز شخص آخر هذا الموعد للتو. يُرجى اختيار موعد آخر.
booking-other-slots = مواعيد أخرى متاحة
# $practitioner: اسم الطبيب.
booking-see-practitioner = عرض جميع مواعيد { $practitioner }

## التأكيد

booking-confirmed-title = تم تأكيد موعدك
booking-appointment-title = موعدك
booking-date = التاريخ والوقت
booking-practitioner = الطبيب
booking-status = الحالة
booking-status-booked = محجوز
booking-status-arrived = حضر
booking-status-fulfilled = تم
booking-status-cancelled = أُلغي
booking-status-noshow = لم يحضر
booking-status-other = أخرى
booking-add-to-calendar = إضافة إلى تقويمي (.ics)
# عنوان حدث التقويم. $clinic: اسم العيادة.
booking-ics-summary = استشارة عن بُعد — { $clinic }
# $practitioner: اسم الطبيب.
booking-ics-summary-with = استشارة عن بُعد مع { $practitioner } — { $clinic }
