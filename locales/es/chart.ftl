# Charts of readings (shared/src/web/chart.rs). No HTML: the caller escapes.

chart-no-readings = Todavía no hay mediciones.
# $series: the line's name; $latest, $min, $max: formatted numbers; $unit: the unit as the
# device sent it; $date: the latest reading's date; $count: how many readings are drawn.
chart-summary =
    { $series }: última { $latest } { $unit } el { $date }, de { $min } a { $max } en { $count ->
        [one] { $count } medición.
       *[other] { $count } mediciones.
    }
# $count: how many readings a chart draws at most.
chart-capped = Solo se trazan las { $count } mediciones más recientes; la tabla las muestra.
# One point, for hover and screen readers. $value: a formatted number; $date: date and time.
chart-point = { $series }: { $value } { $unit }, { $date }
chart-table = Ver las mediciones en una tabla
chart-when = Fecha y hora
