# Charts of readings (shared/src/web/chart.rs). No HTML: the caller escapes.

chart-no-readings = No readings yet.
# $series: the line's name; $latest, $min, $max: formatted numbers; $unit: the unit as the
# device sent it; $date: the latest reading's date; $count: how many readings are drawn.
chart-summary =
    { $series }: latest { $latest } { $unit } on { $date }, from { $min } to { $max } over { $count ->
        [one] { $count } reading.
       *[other] { $count } readings.
    }
# $count: how many readings a chart draws at most.
chart-capped = Only the { $count } latest readings are drawn; the table lists them.
# One point, for hover and screen readers. $value: a formatted number; $date: date and time.
chart-point = { $series }: { $value } { $unit }, { $date }
chart-table = Show the readings as a table
chart-when = Date and time
