from django.apps import AppConfig


class MpesaConfig(AppConfig):
    name = "mpesa"
    verbose_name = "M-Pesa"

    def ready(self) -> None:
        from mpesa import checks, search_text  # noqa: F401
