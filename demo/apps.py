from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and `manage.py seed_demo`: above every other app, imported by none of them; it has no models."""

    name = "demo"
    verbose_name = "Demo data"
