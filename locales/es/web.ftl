# Páginas con formularios y sesiones (shared/src/web). Sin HTML: quien llama escapa.

## La barra sobre cada página dinámica

# $name: el nombre de la persona conectada.
web-signed-in-as = Sesión iniciada como { $name }
web-my-space = Mi espacio
web-sign-out = Cerrar sesión
web-sign-in = Iniciar sesión

## Rechazos

web-forbidden-title = Acceso denegado
web-forbidden-body = Su cuenta no permite abrir esta página. Inicie sesión con otra cuenta o vuelva a su espacio.
web-expired-title = Este formulario ha caducado
web-expired-body = Por su seguridad, no se pudo aceptar el formulario. Vuelva atrás, recargue la página y envíelo de nuevo.

## Inicio de sesión (/sign-in)

sign-in-title = Iniciar sesión
sign-in-email = Correo electrónico
sign-in-password = Contraseña
sign-in-submit = Iniciar sesión
sign-in-email-missing = Introduzca su correo electrónico.
sign-in-password-missing = Introduzca su contraseña.
sign-in-refused = El correo electrónico o la contraseña no son correctos.
# $minutes: tiempo hasta el próximo intento.
sign-in-locked =
    { $minutes ->
        [one] Demasiados intentos. Vuelva a intentarlo dentro de { $minutes } minuto.
       *[other] Demasiados intentos. Vuelva a intentarlo dentro de { $minutes } minutos.
    }
