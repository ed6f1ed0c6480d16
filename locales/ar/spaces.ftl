# The signed-in spaces (shared/src/web/spaces.rs). No HTML: the caller escapes.

## Shared

spaces-when = التاريخ والوقت
spaces-with = الطبيب المعالج
spaces-patient = المريض
spaces-status = الحالة
spaces-actions = الإجراءات
spaces-details = التفاصيل
spaces-times-utc = الأوقات معروضة بالتوقيت العالمي المنسق (UTC).
spaces-status-booked = محجوز
spaces-status-arrived = حضر
spaces-status-fulfilled = مكتمل
spaces-status-cancelled = ملغى
spaces-status-noshow = لم يحضر
spaces-status-other = أخرى
spaces-bp = ضغط الدم
spaces-systolic = الانقباضي
spaces-diastolic = الانبساطي
spaces-glucose = سكر الدم
spaces-weight = الوزن

## The patient's space (/patient)

spaces-patient-title = مساحتي
spaces-upcoming = المواعيد القادمة
spaces-upcoming-none = ليس لديك أي موعد قادم.
spaces-past = الزيارات السابقة
spaces-past-none = لا توجد زيارات سابقة بعد.
spaces-readings = قياساتي
spaces-cancel = إلغاء
# $date: the appointment's date and time.
spaces-cancel-label = إلغاء موعد { $date }
spaces-cancelled = تم إلغاء موعدك.
spaces-cancel-past = هذا الموعد قد بدأ أو انتهى: لم يعد من الممكن إلغاؤه.
# $status: the appointment's status, in words.
spaces-cancel-not-booked = لم يعد من الممكن إلغاء هذا الموعد: حالته «{ $status }».
spaces-changed-meanwhile = تغيّر الموعد في هذه الأثناء: ها هو كما هو الآن. يُرجى المحاولة مرة أخرى.

spaces-invoices = فواتيري
spaces-invoices-none = لا توجد فواتير بعد.
spaces-invoice-date = التاريخ
spaces-invoice-what = الاستشارة
spaces-invoice-amount = المبلغ
spaces-invoice-issued = مستحقة الدفع
spaces-invoice-paid = مدفوعة

## The practitioner's space (/practitioner)

spaces-practitioner-title = جدولي
# $date: today's date.
spaces-today = اليوم، { $date }
spaces-today-none = لا توجد مواعيد اليوم.
spaces-time-utc = الوقت (UTC)
spaces-mark-arrived = تسجيل الحضور
spaces-mark-fulfilled = تسجيل الاكتمال
spaces-mark-noshow = تسجيل عدم الحضور
# $status: the new status, in words.
spaces-marked = حالة الموعد الآن «{ $status }».
# $status: the appointment's current status, in words.
spaces-transition-refused = هذا التغيير غير ممكن: الموعد «{ $status }». ينتقل الموعد من محجوز إلى حضر ثم مكتمل، أو من محجوز إلى لم يحضر.
spaces-status-invalid = اختر حضر أو مكتمل أو لم يحضر.
spaces-unpriced = لا يوجد سعر لهذه الاستشارة بعد، لذا لا يمكن تسجيلها مكتملة (لا يمكن إصدار فاتورة). اطلب من مسؤول العيادة تحديد سعرها.
spaces-back-to-schedule = العودة إلى جدولي
spaces-demographics = بيانات المريض
spaces-birth-date = تاريخ الميلاد
spaces-gender = الجنس
spaces-gender-male = ذكر
spaces-gender-female = أنثى
spaces-gender-other = آخر
spaces-gender-unknown = غير معروف
spaces-appointments-with-you = المواعيد معك
spaces-patient-readings = القياسات
