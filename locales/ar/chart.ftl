# Charts of readings (shared/src/web/chart.rs). No HTML: the caller escapes.

chart-no-readings = لا توجد قياسات بعد.
# $series: the line's name; $latest, $min, $max: formatted numbers; $unit: the unit as the
# device sent it; $date: the latest reading's date; $count: how many readings are drawn.
chart-summary =
    { $series }: آخر قياس { $latest } { $unit } بتاريخ { $date }، من { $min } إلى { $max } { $count ->
        [zero] دون قياسات.
        [one] في قياس واحد.
        [two] في قياسين.
        [few] في { $count } قياسات.
        [many] في { $count } قياسًا.
       *[other] في { $count } قياس.
    }
# $count: how many readings a chart draws at most.
chart-capped = تُرسم آخر { $count } قياس فقط؛ ويعرضها الجدول كلها.
# One point, for hover and screen readers. $value: a formatted number; $date: date and time.
chart-point = { $series }: { $value } { $unit }، { $date }
chart-table = عرض القياسات في جدول
chart-when = التاريخ والوقت
