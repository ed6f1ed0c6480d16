## خطافات الويب (/admin/webhooks)

admin-webhooks-title = خطافات الويب
admin-webhooks-dashboard = إلى أين تُرسل أحداث العيادة، وكيف جرى كل إرسال.
admin-webhooks-intro = تُرسل أحداث العيادة (الحجوزات والإلغاءات والمرضى الجدد والقياسات) موقّعةً إلى هذه العناوين. لا يحمل كل منها إلا معرّفات، ولا يحمل أبدًا اسمًا أو قياسًا.
admin-webhooks-endpoints = نقاط الاستقبال
admin-webhooks-no-endpoints = لا توجد نقطة استقبال بعد. يضيف المشغّل واحدة بالأمر regional-db webhooks add، الذي يعرض سرّ التوقيع مرة واحدة فقط.
admin-webhooks-col-url = العنوان
admin-webhooks-col-events = الأحداث
admin-webhooks-disabled = معطّلة
admin-webhooks-reason-gone = أجاب المستقبِل 410 Gone
admin-webhooks-reason-admin = عطّلها مدير
admin-webhooks-disable = تعطيل
admin-webhooks-enable = إعادة التفعيل
admin-webhooks-deliveries = الإرسالات الأخيرة
admin-webhooks-no-deliveries = لا يوجد إرسال بعد.
admin-webhooks-col-created = الحدث (UTC)
admin-webhooks-col-type = النوع
admin-webhooks-col-id = webhook-id
admin-webhooks-col-attempts = المحاولات
admin-webhooks-col-last = آخر إجابة
admin-webhooks-col-next = المحاولة التالية (UTC)
admin-webhooks-status-pending = قيد الانتظار
admin-webhooks-status-delivered = تم التسليم
admin-webhooks-status-failed = فشل
admin-webhooks-waiting = ينتظر إعادة تفعيل نقطة استقباله
admin-webhooks-replay = إعادة الإرسال
admin-webhooks-replay-help = تُرسل إعادة الإرسال الحدث نفسه مرة أخرى بالمعرّف webhook-id نفسه: المستقبِل الذي تلقّاه من قبل يتجاهله.
# $id: the delivery's number.
admin-webhooks-delivery-title = الإرسال { $id }
admin-webhooks-log = المحاولات
admin-webhooks-no-attempts = لا توجد محاولة بعد.
admin-webhooks-col-attempt = المحاولة
admin-webhooks-col-at = متى (UTC)
admin-webhooks-col-code = حالة HTTP
admin-webhooks-col-error = الخطأ
admin-webhooks-col-duration = المدة (مللي ثانية)
admin-webhooks-back = العودة إلى خطافات الويب
