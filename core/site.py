"""This site's absolute address, for links in messages and the SMS emulator's defaults."""

from django.conf import settings

LOCAL_SITE_URL = "http://127.0.0.1:8000"


def site_url() -> str:
    """The site's base URL without a trailing slash: SITE_URL when the settings have it; until they do, the public
    base URL M-Pesa calls back (on Render, RENDER_EXTERNAL_URL), else `make run`'s address. The one place that reads
    it."""
    url = getattr(settings, "SITE_URL", "") or settings.MPESA_CALLBACK_BASE_URL or LOCAL_SITE_URL
    return url.rstrip("/")
