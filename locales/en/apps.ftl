# The marketplace (shared/src/web/marketplace.rs) and the admin's apps page
# (shared/src/web/admin/apps.rs). No HTML: the caller escapes.

## What a scope allows, in plain words

apps-perm-c = create
apps-perm-r = read
apps-perm-u = update
apps-perm-d = delete
apps-perm-s = search
apps-resource-patient = patients' records
apps-resource-observation = measurements and readings
apps-resource-appointment = appointments
apps-resource-practitioner = practitioners' profiles
apps-resource-schedule = practitioners' schedules
apps-resource-slot = free and booked time slots
apps-resource-consent = patients' consents
apps-resource-all = all of the clinic's data
# $type: a FHIR resource type, e.g. Invoice.
apps-resource-other = { $type } records
# $perms: what it may do (e.g. "read, search"); $resource: on what.
apps-scope = { $perms }: { $resource }
apps-patient-data = patients' data

## The marketplace (/marketplace)

# $clinic: the clinic's name.
apps-marketplace-title = Apps for { $clinic }
apps-marketplace-intro = Apps the clinic can connect to its services. Each one only gets what the clinic grants it.
apps-categories = Categories
apps-category-all = All
apps-category-iot = Connected devices
apps-category-analytics = Analytics
apps-category-communication = Communication
apps-category-scheduling = Scheduling
apps-category-billing = Billing
apps-category-clinical = Clinical
apps-none = No apps in this category yet.
# $developer: who makes the app.
apps-by = By { $developer }
apps-free = Free
# $amount: the formatted price.
apps-monthly = { $amount } per month
apps-asks = What it asks to access
apps-webhook-note = It is notified of the events it may read.

## The admin's apps (/admin/apps)

apps-admin-title = Apps
# $count: apps installed now.
apps-installed-count =
    { $count ->
        [one] { $count } app installed
       *[other] { $count } apps installed
    }
apps-marketplace-link = See the public marketplace
apps-installed-title = Installed
apps-installed-none = No app is installed.
apps-available-title = Available
apps-available-none = No other app is available.
# $who: who installed it; $when: when.
apps-installed-by = Installed by { $who } on { $when }
# $who: who uninstalled it; $when: when.
apps-uninstalled-by = Uninstalled by { $who } on { $when }
apps-granted = Granted access
apps-config = Settings (JSON)
apps-config-help = A JSON object of names and values, e.g. "unit": "mmol/L" between braces; leave empty for none.
apps-config-save = Save the settings
apps-uninstall-confirm = I understand: the app loses access at once.
apps-uninstall = Uninstall
apps-grant-legend = Access to grant
apps-install = Install
# $kind: the consent's code.
apps-consent-note = Access marked "patients' data" is used only under each patient's consent ({ $kind }).
apps-consent-none = This clinic's rules do not allow sharing patients' data with apps: only other access can be granted.
apps-grant-empty = Choose at least one access to grant.
# $scope: the access in plain words.
apps-grant-no-consent = This clinic's rules do not allow granting "{ $scope }": it reaches patients' data.
apps-grant-not-requested = The app did not ask for this access.
# $why: what is wrong with the settings.
apps-config-invalid = These settings cannot be saved: { $why }
apps-uninstall-unconfirmed = Tick the box to confirm the uninstall.
apps-not-installable = This app cannot be installed with this access: it is no longer available or did not ask for it.
apps-not-installed = This app is not installed.
apps-done-installed = The app is installed.
apps-done-uninstalled = The app is uninstalled: its access is revoked.
apps-done-configured = The settings are saved.
