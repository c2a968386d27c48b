from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

ENVIRONMENTS = ("emulator", "sandbox", "production")


@register(Tags.security)
def check_mpesa_environment(app_configs, **kwargs):
    """With DJANGO_DEBUG off, where payments go must be chosen on purpose."""
    env = settings.MPESA_ENV
    if env and env not in ENVIRONMENTS:
        return [Error(f"MPESA_ENV must be one of {', '.join(ENVIRONMENTS)} (got {env!r}).", id="mpesa.E001")]
    if not env and not settings.DEBUG:
        return [
            Error(
                "MPESA_ENV is not set. With DJANGO_DEBUG off it must say where payments go.",
                hint="Set MPESA_ENV to sandbox or production (or emulator for a public demo without real money).",
                id="mpesa.E002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_mpesa_emulator_in_deployment(app_configs, **kwargs):
    if settings.MPESA_ENV == "emulator":
        return [
            Warning(
                "MPESA_ENV=emulator: payments go to the built-in Daraja emulator and no real money moves.",
                hint="Fine for a public demo (every page says so); set sandbox or production otherwise.",
                id="mpesa.W001",
            )
        ]
    return []
