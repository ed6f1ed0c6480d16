# Charts of readings (shared/src/web/chart.rs). No HTML: the caller escapes.

chart-no-readings = Aucune mesure pour l’instant.
# $series: the line's name; $latest, $min, $max: formatted numbers; $unit: the unit as the
# device sent it; $date: the latest reading's date; $count: how many readings are drawn.
chart-summary =
    { $series } : dernière mesure { $latest } { $unit } le { $date }, de { $min } à { $max } sur { $count ->
        [one] { $count } mesure.
       *[other] { $count } mesures.
    }
# $count: how many readings a chart draws at most.
chart-capped = Seules les { $count } dernières mesures sont tracées ; le tableau les liste.
# One point, for hover and screen readers. $value: a formatted number; $date: date and time.
chart-point = { $series } : { $value } { $unit }, { $date }
chart-table = Afficher les mesures sous forme de tableau
chart-when = Date et heure
