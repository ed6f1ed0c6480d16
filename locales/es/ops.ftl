# La consola de los operadores en el dominio raíz (shared/src/ops/console.rs). Sin HTML: quien llama escapa.

## Inicio de sesión (/ops/sign-in)

ops-sign-in-title = Acceso de operador
ops-sign-in-intro = Solo para los operadores de la plataforma. Las cuentas de las clínicas inician sesión en la dirección de su clínica.
ops-email = Correo electrónico
ops-password = Contraseña
ops-sign-in-submit = Iniciar sesión
ops-sign-in-refused = Correo o contraseña incorrectos.
ops-sign-in-locked =
    { $minutes ->
        [one] Demasiados intentos fallidos: vuelva a intentarlo en { $minutes } minuto.
       *[other] Demasiados intentos fallidos: vuelva a intentarlo en { $minutes } minutos.
    }
ops-signed-in-as = Sesión de { $name }
ops-sign-out = Cerrar sesión

## Clínicas (/ops/tenants)

ops-tenants-title = Clínicas
ops-tenants-empty = Ninguna clínica coincide.
ops-filter-status = Estado
ops-filter-all = Todas
ops-filter-submit = Filtrar
ops-status-active = Activa
ops-status-suspended = Suspendida
ops-col-slug = Identificador
ops-col-name = Nombre
ops-col-status = Estado
ops-col-plan = Plan
ops-col-region = Región de alojamiento
ops-col-domains = Dominios
ops-col-country = País
ops-col-locale = Idioma predeterminado
ops-col-created = Creada
ops-next-page = Clínicas siguientes
ops-domain-pending = pendiente de verificación
ops-domain-verified = verificado
ops-back = Volver a las clínicas

## Una clínica (/ops/tenants/<slug>)

ops-tenant-title = { $name } ({ $slug })
ops-plan-title = Plan
ops-plan-submit = Cambiar el plan
ops-suspend-title = Suspender
ops-suspend-confirm = Confirmo: suspender { $slug }. Sus páginas y su API responderán que está suspendida.
ops-suspend-submit = Suspender la clínica
ops-resume-title = Reanudar
ops-resume-confirm = Confirmo: volver a servir { $slug }.
ops-resume-submit = Reanudar la clínica
ops-domains-title = Dominios personalizados
ops-domain-label = Dominio (p. ej. www.clinica.example)
ops-domain-add-submit = Añadir el dominio
ops-domain-publish = Publique este registro DNS y luego verifique:
ops-domain-verify-submit = Verificar ahora
ops-domain-remove-submit = Quitar
ops-delete-title = Eliminar
ops-delete-warning = Eliminar exporta todas las tablas de la clínica, luego borra sus datos en su región de alojamiento y la quita del directorio en todas partes. Suspéndala antes. No se puede deshacer.
ops-delete-confirm-label = Escriba { $slug } para confirmar
ops-delete-submit = Exportar y eliminar
ops-deleted-title = Clínica eliminada
ops-deleted-body =
    { $rows ->
        [one] { $slug } se exportó a { $directory } en { $region } ({ $rows } fila) y se eliminó.
       *[other] { $slug } se exportó a { $directory } en { $region } ({ $rows } filas) y se eliminó.
    }

## Avisos tras un cambio

ops-notice-updated = Guardado.
ops-notice-suspended = La clínica está suspendida. Los servidores perimetrales lo aplican en menos de un minuto.
ops-notice-resumed = La clínica vuelve a estar en servicio. Los servidores perimetrales lo aplican en menos de un minuto.
ops-notice-domain-added = Dominio añadido: publique su registro DNS y luego verifíquelo.
ops-notice-domain-verified = Dominio verificado: ahora lleva a la clínica.
ops-notice-domain-removed = Dominio quitado.
ops-notice-unchanged = Nada que cambiar: ya era así.

## Rechazos

ops-error-title = No realizado
ops-error-generic = La operación fue rechazada; no se cambió nada.
ops-error-bad-request = La solicitud no es válida; no se cambió nada.
ops-error-confirmation-required = Confirme primero; no se cambió nada.
ops-error-confirmation-mismatch = El identificador escrito no coincide; no se eliminó nada.
ops-error-unknown-clinic = Ninguna clínica tiene este identificador.
ops-error-unknown-domain = Esta clínica no tiene ese dominio.
ops-error-domain-taken = Este dominio pertenece a otra clínica.
ops-error-bad-domain = No es un nombre de dominio que una clínica pueda usar.
ops-error-apex-domain = El dominio de la plataforma y sus subdominios no pueden ser el dominio de una clínica.
ops-error-domain-not-verified = Aún no se encontró el registro DNS. Los cambios de DNS tardan: vuelva a intentarlo más tarde.
ops-error-dns-failed = La consulta DNS falló: vuelva a intentarlo más tarde.
ops-error-not-suspended = Suspenda la clínica antes de eliminarla.
ops-error-legal-holds = Hay pacientes de esta clínica bajo retención legal: no se puede eliminar.
ops-error-bad-plan = Plan desconocido.
ops-error-bad-name = El nombre de una clínica tiene de 1 a 200 caracteres.
ops-error-nothing-to-update = Nada que cambiar.
ops-error-already-exists = Esta clínica o este dominio ya existe.
ops-error-operator-disabled = Su cuenta de operador está desactivada.
ops-error-unavailable = No se puede contactar con el plano de control: vuelva a intentarlo en un momento.
