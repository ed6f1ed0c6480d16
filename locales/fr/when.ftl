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
