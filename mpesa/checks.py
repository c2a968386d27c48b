import ipaddress
from urllib.parse import urlsplit

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


def _public_https(url: str) -> bool:
    """An https URL whose host M-Pesa can reach: not localhost, a single-label name or a non-public address."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme != "https" or not host or host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return "." in host


@register(Tags.security, deploy=True)
def check_mpesa_live_settings(app_configs, **kwargs):
    """Against Daraja (sandbox or production) payments need credentials, the passkey, a public HTTPS callback base
    URL and the list of addresses callbacks may come from; without them payments fail or forged callbacks count."""
    env = settings.MPESA_ENV
    if env not in ("sandbox", "production"):
        return []
    warnings = []
    if not settings.MPESA_CALLBACK_ALLOWED_IPS:
        warnings.append(
            Warning(
                f"MPESA_ENV={env} without MPESA_CALLBACK_ALLOWED_IPS: a payment callback from any address is applied.",
                hint="Set MPESA_CALLBACK_ALLOWED_IPS to Safaricom's callback addresses, comma-separated.",
                id="mpesa.W002",
            )
        )
    missing = [name for name in ("MPESA_CONSUMER_KEY", "MPESA_CONSUMER_SECRET") if not getattr(settings, name)]
    if missing:
        warnings.append(
            Warning(
                f"MPESA_ENV={env} without {' and '.join(missing)}: Daraja refuses every request.",
                hint="Set MPESA_CONSUMER_KEY and MPESA_CONSUMER_SECRET to your Daraja app's credentials.",
                id="mpesa.W003",
            )
        )
    if not settings.MPESA_PASSKEY:
        warnings.append(
            Warning(
                f"MPESA_ENV={env} without MPESA_PASSKEY: PIN prompts are signed with the public sandbox passkey, "
                "which only the test shortcode 174379 accepts."
                if env == "sandbox"
                else f"MPESA_ENV={env} without MPESA_PASSKEY: no PIN prompt can be sent.",
                hint="Set MPESA_PASSKEY to the STK passkey of MPESA_SHORTCODE.",
                id="mpesa.W004",
            )
        )
    base_url = settings.MPESA_CALLBACK_BASE_URL
    if not _public_https(base_url or ""):
        warnings.append(
            Warning(
                f"MPESA_ENV={env} without a public HTTPS callback base URL"
                + (f" (MPESA_CALLBACK_BASE_URL is {base_url!r})" if base_url else "")
                + ": M-Pesa cannot deliver payment results.",
                hint="Set MPESA_CALLBACK_BASE_URL to this site's public https:// address (on Render it defaults to "
                "RENDER_EXTERNAL_URL).",
                id="mpesa.W005",
            )
        )
    if env == "production" and not settings.MPESA_SHORTCODE:
        warnings.append(
            Warning(
                "MPESA_ENV=production without MPESA_SHORTCODE: no PIN prompt can be sent.",
                hint="Set MPESA_SHORTCODE to your paybill or till's store number.",
                id="mpesa.W006",
            )
        )
    return warnings
