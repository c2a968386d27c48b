from django.apps import AppConfig


class ReservationsConfig(AppConfig):
    name = "reservations"
    verbose_name = "Reservations"

    def ready(self) -> None:
        # Imported here, not at the top: these modules use the models, which exist only once every app is loaded.
        from listings.taken_nights import taken_nights_register
        from reservations import receivers  # noqa: F401
        from reservations.selectors import BookingsTakenNights

        # Listings sits below reservations and imports none of it: it reads which nights bookings take here.
        taken_nights_register(provider=BookingsTakenNights())
