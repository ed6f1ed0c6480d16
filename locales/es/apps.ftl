# El mercado de aplicaciones (shared/src/web/marketplace.rs) y la página de aplicaciones
# de la administración (shared/src/web/admin/apps.rs). Sin HTML: quien llama escapa.

## Lo que permite un permiso, en palabras claras

apps-perm-c = crear
apps-perm-r = leer
apps-perm-u = modificar
apps-perm-d = eliminar
apps-perm-s = buscar
apps-resource-patient = historias de los pacientes
apps-resource-observation = mediciones y lecturas
apps-resource-appointment = citas
apps-resource-practitioner = perfiles de los profesionales
apps-resource-schedule = agendas de los profesionales
apps-resource-slot = horarios libres y reservados
apps-resource-consent = consentimientos de los pacientes
apps-resource-all = todos los datos de la clínica
# $type: un tipo de recurso FHIR, p. ej. Invoice.
apps-resource-other = registros { $type }
# $perms: lo que puede hacer; $resource: sobre qué.
apps-scope = { $perms }: { $resource }
apps-patient-data = datos de pacientes

## El mercado (/marketplace)

# $clinic: el nombre de la clínica.
apps-marketplace-title = Aplicaciones para { $clinic }
apps-marketplace-intro = Aplicaciones que la clínica puede conectar a sus servicios. Cada una solo obtiene lo que la clínica le concede.
apps-categories = Categorías
apps-category-all = Todas
apps-category-iot = Dispositivos conectados
apps-category-analytics = Análisis
apps-category-communication = Comunicación
apps-category-scheduling = Agenda
apps-category-billing = Facturación
apps-category-clinical = Clínica
apps-none = Todavía no hay aplicaciones en esta categoría.
# $developer: quién hace la aplicación.
apps-by = De { $developer }
apps-free = Gratuita
# $amount: el precio con formato.
apps-monthly = { $amount } al mes
apps-asks = A qué pide acceso
apps-webhook-note = Recibe aviso de los eventos que puede leer.

## Las aplicaciones de la administración (/admin/apps)

apps-admin-title = Aplicaciones
# $count: aplicaciones instaladas.
apps-installed-count =
    { $count ->
        [one] { $count } aplicación instalada
       *[other] { $count } aplicaciones instaladas
    }
apps-marketplace-link = Ver el mercado público
apps-installed-title = Instaladas
apps-installed-none = No hay ninguna aplicación instalada.
apps-available-title = Disponibles
apps-available-none = No hay otras aplicaciones disponibles.
# $who: quién la instaló; $when: cuándo.
apps-installed-by = Instalada por { $who } el { $when }
# $who: quién la desinstaló; $when: cuándo.
apps-uninstalled-by = Desinstalada por { $who } el { $when }
apps-granted = Accesos concedidos
apps-config = Ajustes (JSON)
apps-config-help = Un objeto JSON de nombres y valores, p. ej. "unit": "mmol/L" entre llaves; déjelo vacío si no hay ninguno.
apps-config-save = Guardar los ajustes
apps-uninstall-confirm = Entiendo: la aplicación pierde el acceso de inmediato.
apps-uninstall = Desinstalar
apps-grant-legend = Accesos que conceder
apps-install = Instalar
# $kind: el código del consentimiento.
apps-consent-note = Los accesos marcados «datos de pacientes» solo se usan con el consentimiento de cada paciente ({ $kind }).
apps-consent-none = Las normas de esta clínica no permiten compartir datos de pacientes con aplicaciones: solo pueden concederse los demás accesos.
apps-grant-empty = Elija al menos un acceso que conceder.
# $scope: el acceso en palabras claras.
apps-grant-no-consent = Las normas de esta clínica no permiten conceder «{ $scope }»: alcanza datos de pacientes.
apps-grant-not-requested = La aplicación no pidió este acceso.
# $why: qué falla en los ajustes.
apps-config-invalid = Estos ajustes no se pueden guardar: { $why }
apps-uninstall-unconfirmed = Marque la casilla para confirmar la desinstalación.
apps-not-installable = Esta aplicación no se puede instalar con estos accesos: ya no está disponible o no los pidió.
apps-not-installed = Esta aplicación no está instalada.
apps-done-installed = La aplicación está instalada.
apps-done-uninstalled = La aplicación está desinstalada: sus accesos están revocados.
apps-done-configured = Los ajustes están guardados.
