# The clinic's home page (shared/src/web/home.rs), besides main.ftl's home-* messages.

home-practitioners = Our practitioners
home-no-practitioners = No practitioner takes appointments online yet.

home-prices = Prices
home-price-consultation = Consultation
home-price-amount = Price
