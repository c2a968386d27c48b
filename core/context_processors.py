from django.conf import settings

from core.page_cache import RENDERING_FOR_CACHE, placeholders
from core.site import site_name


def site(request) -> dict:
    return {"SITE_NAME": site_name(), "DEMO_PAYMENTS": settings.MPESA_ENV == "emulator" and not settings.DEBUG}


def page_cache(request) -> dict:
    """While a page is rendered for the anonymous page cache, its CSRF token is a placeholder (core/page_cache.py)."""
    if getattr(request, RENDERING_FOR_CACHE, False):
        return {"csrf_token": placeholders()[0]}
    return {}
