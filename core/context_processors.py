from django.conf import settings

from core.site import site_name


def site(request) -> dict:
    return {"SITE_NAME": site_name(), "DEMO_PAYMENTS": settings.MPESA_ENV == "emulator" and not settings.DEBUG}
