# Dates and times on pages (shared/src/web/when.rs). No HTML: the caller escapes.
# Source: CLDR 49 fr: medium date "d MMM y", abbreviated month names (© Unicode, Inc., Unicode-3.0 licence).

# $month: 1 to 12.
when-month =
    { $month ->
         [1] janv.
         [2] févr.
         [3] mars
         [4] avr.
         [5] mai
         [6] juin
         [7] juil.
         [8] août
         [9] sept.
         [10] oct.
         [11] nov.
        *[12] déc.
    }
# $day, $year: digits; $month: the month's name (when-month).
when-date = { $day } { $month } { $year }
# $date: when-date; $time: HH:MM, always UTC (clinics have no time zone yet).
when-date-time = { $date } à { $time } UTC
# $weekday: 1 (Monday) to 7 (Sunday); CLDR 49 fr wide stand-alone day names.
when-weekday =
    { $weekday ->
        [1] lundi
        [2] mardi
        [3] mercredi
        [4] jeudi
        [5] vendredi
        [6] samedi
       *[7] dimanche
    }
# An appointment's time: $weekday (when-weekday), $datetime (when-date-time).
when-weekday-date-time = { $weekday } { $datetime }
