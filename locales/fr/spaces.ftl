# The signed-in spaces (shared/src/web/spaces.rs). No HTML: the caller escapes.

## Shared

spaces-when = Date et heure
spaces-with = Praticien
spaces-patient = Patient
spaces-status = Statut
spaces-actions = Actions
spaces-details = Détails
spaces-times-utc = Les heures sont indiquées en UTC.
spaces-status-booked = Réservé
spaces-status-arrived = Arrivé
spaces-status-fulfilled = Effectué
spaces-status-cancelled = Annulé
spaces-status-noshow = Absent
spaces-status-other = Autre
spaces-bp = Tension artérielle
spaces-systolic = Systolique
spaces-diastolic = Diastolique
spaces-glucose = Glycémie
spaces-weight = Poids

## The patient's space (/patient)

spaces-patient-title = Mon espace
spaces-upcoming = Rendez-vous à venir
spaces-upcoming-none = Vous n’avez aucun rendez-vous à venir.
spaces-past = Consultations passées
spaces-past-none = Aucune consultation passée pour l’instant.
spaces-readings = Mes mesures
spaces-cancel = Annuler
# $date: the appointment's date and time.
spaces-cancel-label = Annuler le rendez-vous du { $date }
spaces-cancelled = Votre rendez-vous a été annulé.
spaces-cancel-past = Ce rendez-vous a déjà commencé ou eu lieu : il ne peut plus être annulé.
# $status: the appointment's status, in words.
spaces-cancel-not-booked = Ce rendez-vous ne peut plus être annulé : son statut est « { $status } ».
spaces-changed-meanwhile = Le rendez-vous a changé entre-temps : le voici tel qu’il est maintenant. Veuillez réessayer.

spaces-invoices = Mes factures
spaces-invoices-none = Aucune facture pour l’instant.
spaces-invoice-date = Date
spaces-invoice-what = Consultation
spaces-invoice-amount = Montant
spaces-invoice-issued = À payer
spaces-invoice-paid = Payée

## The practitioner's space (/practitioner)

spaces-practitioner-title = Mon planning
# $date: today's date.
spaces-today = Aujourd’hui, { $date }
spaces-today-none = Aucun rendez-vous aujourd’hui.
spaces-time-utc = Heure (UTC)
spaces-mark-arrived = Marquer arrivé
spaces-mark-fulfilled = Marquer effectué
spaces-mark-noshow = Marquer absent
# $status: the new status, in words.
spaces-marked = Le rendez-vous est maintenant « { $status } ».
# $status: the appointment's current status, in words.
spaces-transition-refused = Ce changement n’est pas possible : le rendez-vous est « { $status } ». Un rendez-vous passe de réservé à arrivé puis effectué, ou de réservé à absent.
spaces-status-invalid = Choisissez arrivé, effectué ou absent.
spaces-unpriced = Cette consultation n’a pas encore de tarif : elle ne peut pas être marquée effectuée (aucune facture ne pourrait être émise). Demandez à l’administrateur de la clinique de fixer son tarif.
spaces-back-to-schedule = Retour à mon planning
spaces-demographics = Informations du patient
spaces-birth-date = Date de naissance
spaces-gender = Genre
spaces-gender-male = Homme
spaces-gender-female = Femme
spaces-gender-other = Autre
spaces-gender-unknown = Inconnu
spaces-appointments-with-you = Rendez-vous avec vous
spaces-patient-readings = Mesures
