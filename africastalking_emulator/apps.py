from django.apps import AppConfig

from . import dispatcher


class AfricasTalkingEmulatorConfig(AppConfig):
    name = "africastalking_emulator"
    label = "africastalking_emulator"
    verbose_name = "Africa's Talking emulator"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here: the services import the models, which load only once the app registry is ready.
        from . import services

        dispatcher.serve(services.run_due)
