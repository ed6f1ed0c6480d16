# Dates and times on pages (shared/src/web/when.rs). No HTML: the caller escapes.
# Source: CLDR 49 es: medium date "d MMM y", abbreviated month names (© Unicode, Inc., Unicode-3.0 licence).

# $month: 1 to 12.
when-month =
    { $month ->
         [1] ene
         [2] feb
         [3] mar
         [4] abr
         [5] may
         [6] jun
         [7] jul
         [8] ago
         [9] sept
         [10] oct
         [11] nov
        *[12] dic
    }
# $day, $year: digits; $month: the month's name (when-month).
when-date = { $day } { $month } { $year }
# $date: when-date; $time: HH:MM, always UTC (clinics have no time zone yet).
when-date-time = { $date }, { $time } UTC
# $weekday: 1 (Monday) to 7 (Sunday); CLDR 49 es wide stand-alone day names.
when-weekday =
    { $weekday ->
        [1] lunes
        [2] martes
        [3] miércoles
        [4] jueves
        [5] viernes
        [6] sábado
       *[7] domingo
    }
# An appointment's time: $weekday (when-weekday), $datetime (when-date-time).
when-weekday-date-time = { $weekday }, { $datetime }
