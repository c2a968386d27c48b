from django.apps import AppConfig


class DarajaEmulatorConfig(AppConfig):
    name = "daraja_emulator"
    label = "daraja_emulator"
    verbose_name = "Daraja emulator"
    default_auto_field = "django.db.models.BigAutoField"
