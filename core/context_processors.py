from django.conf import settings


def site(request) -> dict:
    return {"SITE_NAME": "Nexus", "DEMO_PAYMENTS": settings.MPESA_ENV == "emulator" and not settings.DEBUG}
