# Dates and times on pages (shared/src/web/when.rs). No HTML: the caller escapes.
# Source: CLDR 49 ar: long date "d MMMM y" (abbreviated and wide month names are the same) (© Unicode, Inc., Unicode-3.0 licence).

# $month: 1 to 12.
when-month =
    { $month ->
         [1] يناير
         [2] فبراير
         [3] مارس
         [4] أبريل
         [5] مايو
         [6] يونيو
         [7] يوليو
         [8] أغسطس
         [9] سبتمبر
         [10] أكتوبر
         [11] نوفمبر
        *[12] ديسمبر
    }
# $day, $year: digits; $month: the month's name (when-month).
when-date = { $day } { $month } { $year }
# $date: when-date; $time: HH:MM, always UTC (clinics have no time zone yet).
when-date-time = { $date }، { $time } UTC
# $weekday: 1 (Monday) to 7 (Sunday); CLDR 49 ar wide stand-alone day names.
when-weekday =
    { $weekday ->
        [1] الاثنين
        [2] الثلاثاء
        [3] الأربعاء
        [4] الخميس
        [5] الجمعة
        [6] السبت
       *[7] الأحد
    }
# An appointment's time: $weekday (when-weekday), $datetime (when-date-time).
when-weekday-date-time = { $weekday }، { $datetime }
