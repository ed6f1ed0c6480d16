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

## Tarifas (/admin/prices)

admin-prices-title = Tarifas
# $count: active prices.
admin-prices-count =
    { $count ->
        [one] { $count } tipo de consulta con tarifa
       *[other] { $count } tipos de consulta con tarifa
    }
admin-prices-empty = Todavía no hay tarifas.
admin-price-col-type = Tipo de consulta
admin-price-col-code = Código
admin-price-col-amount = Tarifa
admin-price-retire = Retirar
admin-price-set-title = Fijar una tarifa
admin-price-help = Una tarifa por tipo de consulta: fijar la tarifa de un tipo que ya tiene una la sustituye. Las facturas ya emitidas conservan su importe.
admin-price-code = Código del tipo de consulta (letras, cifras, guiones)
admin-price-display = Nombre del tipo de consulta
# $currency: the clinic's currency code (EUR, XOF…).
admin-price-amount = Tarifa ({ $currency })
admin-price-submit = Guardar la tarifa
admin-price-code-invalid = Introduzca un código de letras minúsculas, cifras y guiones.
admin-price-display-missing = Introduzca el nombre que leerán los pacientes.
admin-price-amount-invalid = Introduzca un importe como 45,50, sin espacios.
# $decimals: the currency's minor units.
admin-price-too-precise = Esta moneda admite como máximo { $decimals } decimales.
admin-price-not-positive = Una tarifa es mayor que cero.
admin-price-conflict = Otra persona acaba de cambiar la tarifa de este tipo. Revise la lista e inténtelo de nuevo.

## Cuentas (/admin/accounts)

admin-accounts-title = Cuentas
# $count: accounts that can sign in.
admin-accounts-count =
    { $count ->
        [one] { $count } cuenta puede iniciar sesión
       *[other] { $count } cuentas pueden iniciar sesión
    }
admin-account-col-email = Correo electrónico
admin-account-col-name = Nombre
admin-account-col-role = Rol
admin-account-col-last = Último inicio de sesión (UTC)
admin-account-never = Nunca
admin-account-disabled = Desactivada
admin-account-disable = Desactivar
admin-account-enable = Activar
admin-role-patient = Paciente
admin-role-practitioner = Profesional
admin-role-admin = Administrador
admin-account-new-title = Crear una cuenta
admin-account-email = Correo electrónico
admin-account-name = Nombre que se muestra al iniciar sesión
admin-account-role = Rol
admin-account-practitioner = Profesional (para la cuenta de un profesional)
admin-account-practitioner-none = Ninguno
# $min: the fewest characters a password has.
admin-account-password = Contraseña inicial (al menos { $min } caracteres)
admin-account-submit = Crear la cuenta
admin-account-email-invalid = Introduzca un correo como nombre@ejemplo.es.
admin-account-email-taken = Ya hay una cuenta con este correo electrónico.
admin-account-name-missing = Introduzca el nombre.
admin-account-role-invalid = Elija profesional o administrador.
admin-account-practitioner-missing = Elija el profesional de esta cuenta.
# $min: the fewest characters.
admin-account-password-short = La contraseña necesita al menos { $min } caracteres.
# $max: the most characters.
admin-account-password-long = La contraseña puede tener como máximo { $max } caracteres.

## Tipo de consulta de los huecos generados

admin-service = Tipo de consulta ofrecido (tipos con tarifa)
admin-service-none = Ninguno
admin-service-invalid = Elija un tipo de consulta de la lista.
