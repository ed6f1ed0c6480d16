# Páginas del administrador de la clínica (shared/src/web/admin). Sin HTML: quien llama escapa.

## Panel (/admin)

admin-title = Administración
admin-intro = Gestione los profesionales de la clínica y cuándo los pacientes pueden reservarlos.
admin-back = Volver a la administración
admin-back-practitioners = Volver a los profesionales
# $count: how many practitioners the clinic has.
admin-practitioners-count =
    { $count ->
        [one] { $count } profesional
       *[other] { $count } profesionales
    }
# $count: how many of them are active.
admin-active-count = Activos: { $count }
# $count: free slots from now on.
admin-free-slots-count =
    { $count ->
        [one] { $count } hueco libre próximo
       *[other] { $count } huecos libres próximos
    }

## Profesionales (/admin/practitioners)

admin-practitioners-title = Profesionales
admin-practitioners-empty = Todavía no hay profesionales. Añada el primero a continuación.
admin-col-name = Nombre
admin-col-qualification = Titulación
admin-col-status = Estado
admin-col-slots = Huecos libres próximos
admin-col-actions = Acciones
admin-status-active = Activo
admin-status-inactive = Inactivo
admin-deactivate = Desactivar
admin-reactivate = Reactivar
admin-availability-link = Disponibilidad
admin-add-title = Añadir un profesional
admin-given = Nombre
admin-family = Apellidos
admin-qualification = Titulación o especialidad
admin-active = Activo: los pacientes pueden reservar a este profesional
admin-add-submit = Añadir el profesional
admin-family-missing = Introduzca los apellidos.
admin-too-long = Este texto es demasiado largo.
admin-practitioner-refused = No se pudieron guardar estos datos. Revíselos e inténtelo de nuevo.

## Disponibilidad semanal (/admin/practitioners/{id}/availability)

# $name: the practitioner's name.
admin-availability-title = Disponibilidad de { $name }
admin-added = Se ha añadido el profesional. Ahora indique su disponibilidad semanal.
admin-weekly-title = Disponibilidad semanal
admin-availability-intro = Para cada día, indique hasta dos franjas horarias de consulta, luego la duración de una consulta y cuántas semanas abrir a partir de mañana. Todas las horas están en UTC (tiempo universal coordinado).
admin-day-mon = Lunes
admin-day-tue = Martes
admin-day-wed = Miércoles
admin-day-thu = Jueves
admin-day-fri = Viernes
admin-day-sat = Sábado
admin-day-sun = Domingo
admin-from = Desde (UTC)
admin-to = Hasta (UTC)
admin-from-2 = Luego desde (UTC)
admin-to-2 = Hasta (UTC), segunda franja
admin-slot-minutes = Duración de una consulta (minutos)
admin-weeks = Semanas que abrir
admin-availability-submit = Generar los huecos
admin-form-faults = No se ha guardado nada: corrija los campos señalados abajo.
admin-time-invalid = Introduzca una hora con el formato hh:mm.
admin-time-pair = Introduzca el inicio y el final de esta franja.
admin-end-before-start = El final debe ser posterior al inicio.
# $minutes: the length of a consultation.
admin-not-divisible = La franja debe contener un número entero de consultas de { $minutes } minutos.
admin-overlap = Esta franja se solapa con la primera franja del mismo día.
admin-slot-invalid = Introduzca una duración entre 5 y 480 minutos.
# $max: the most weeks at once.
admin-weeks-invalid = Introduzca un número de semanas entre 1 y { $max }.
admin-no-range = Introduzca al menos una franja horaria.
# $max: the most slots one generation makes.
admin-too-many-slots = Son demasiados huecos de una vez (como máximo { $max }): abra menos semanas o franjas más cortas.
# $count: slots made; $first, $last: the first and last slot's start (date and time, UTC).
admin-generated =
    { $count ->
        [one] { $count } hueco creado, el { $first }.
       *[other] { $count } huecos creados, del { $first } al { $last }.
    }
admin-generated-none = Ningún hueco nuevo: estos huecos ya existían.
# $count: free slots ahead; $first, $last: the first and last one's start (UTC).
admin-upcoming =
    { $count ->
        [one] { $count } hueco libre próximo, el { $first }.
       *[other] { $count } huecos libres próximos, del { $first } al { $last }.
    }
admin-upcoming-none = Ningún hueco libre próximo.
