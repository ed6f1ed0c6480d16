# Dates and times on pages (shared/src/web/when.rs). No HTML: the caller escapes.
# Source: CLDR 49 en: medium date "MMM d, y", abbreviated month names (© Unicode, Inc., Unicode-3.0 licence).

# $month: 1 to 12.
when-month =
    { $month ->
         [1] Jan
         [2] Feb
         [3] Mar
         [4] Apr
         [5] May
         [6] Jun
         [7] Jul
         [8] Aug
         [9] Sep
         [10] Oct
         [11] Nov
        *[12] Dec
    }
# $day, $year: digits; $month: the month's name (when-month).
when-date = { $month } { $day }, { $year }
# $date: when-date; $time: HH:MM, always UTC (clinics have no time zone yet).
when-date-time = { $date }, { $time } UTC
# $weekday: 1 (Monday) to 7 (Sunday); CLDR 49 en wide stand-alone day names.
when-weekday =
    { $weekday ->
        [1] Monday
        [2] Tuesday
        [3] Wednesday
        [4] Thursday
        [5] Friday
        [6] Saturday
       *[7] Sunday
    }
# An appointment's time: $weekday (when-weekday), $datetime (when-date-time).
when-weekday-date-time = { $weekday }, { $datetime }
