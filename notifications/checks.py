import re

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

ENVIRONMENTS = ("emulator", "sandbox", "production")
# The delivery-report URL's secret segment: one URL path segment, long enough not to be guessed.
MIN_DELIVERY_TOKEN_LENGTH = 24
URL_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")


@register(Tags.security)
def check_sms_environment(app_configs, **kwargs):
    """With DJANGO_DEBUG off, where SMS go must be chosen on purpose."""
    env = settings.SMS_ENV
    if env and env not in ENVIRONMENTS:
        return [Error(f"SMS_ENV must be one of {', '.join(ENVIRONMENTS)} (got {env!r}).", id="notifications.E001")]
    if not env and not settings.DEBUG:
        return [
            Error(
                "SMS_ENV is not set. With DJANGO_DEBUG off it must say where text messages go.",
                hint="Set SMS_ENV to sandbox or production (or emulator for a public demo that sends no real SMS).",
                id="notifications.E002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_sms_emulator_in_deployment(app_configs, **kwargs):
    if settings.SMS_ENV == "emulator":
        return [
            Warning(
                "SMS_ENV=emulator: text messages go to the built-in Africa's Talking emulator and reach no phone.",
                hint="Fine for a public demo (its virtual inbox shows each person their own messages); set sandbox or "
                "production otherwise.",
                id="notifications.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_sms_live_settings(app_configs, **kwargs):
    """Against Africa's Talking, sending needs the API key (and in production the account's username), and delivery
    reports need the secret segment of their URL."""
    env = settings.SMS_ENV
    warnings = []
    if env in ("sandbox", "production") and not settings.AT_API_KEY:
        warnings.append(
            Warning(
                f"SMS_ENV={env} without AT_API_KEY: Africa's Talking refuses every message.",
                hint="Set AT_API_KEY to the API key of your Africa's Talking app.",
                id="notifications.W002",
            )
        )
    if env == "production" and not settings.AT_USERNAME:
        warnings.append(
            Warning(
                "SMS_ENV=production without AT_USERNAME: Africa's Talking refuses every message.",
                hint="Set AT_USERNAME to your Africa's Talking app's username (the sandbox's is 'sandbox').",
                id="notifications.W003",
            )
        )
    token = settings.SMS_DELIVERY_TOKEN
    if env in ENVIRONMENTS and (len(token) < MIN_DELIVERY_TOKEN_LENGTH or not URL_SAFE.match(token)):
        if not token:
            problem = "without SMS_DELIVERY_TOKEN: every delivery report is refused (404)"
        elif not URL_SAFE.match(token):
            problem = "with an SMS_DELIVERY_TOKEN that is not letters, digits, - and _: its URL may not match"
        else:
            length = MIN_DELIVERY_TOKEN_LENGTH
            problem = f"with an SMS_DELIVERY_TOKEN shorter than {length} characters: it can be guessed"
        warnings.append(
            Warning(
                f"SMS_ENV={env} {problem}.",
                hint="Set SMS_DELIVERY_TOKEN to a long random string (python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))') and give Africa's Talking the delivery-report URL "
                "{SITE_URL}/notifications/sms/delivery/{SMS_DELIVERY_TOKEN}/.",
                id="notifications.W004",
            )
        )
    return warnings
