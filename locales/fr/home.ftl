# La page d'accueil de la clinique (shared/src/web/home.rs), en plus des messages home-* de main.ftl.

home-practitioners = Nos praticiens
home-no-practitioners = Aucun praticien ne prend encore de rendez-vous en ligne.

home-prices = Tarifs
home-price-consultation = Consultation
home-price-amount = Tarif
