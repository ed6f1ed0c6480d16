# La página de inicio de la clínica (shared/src/web/home.rs), además de los mensajes home-* de main.ftl.

home-practitioners = Nuestros profesionales
home-no-practitioners = Todavía ningún profesional acepta citas en línea.

home-prices = Tarifas
home-price-consultation = Consulta
home-price-amount = Precio
