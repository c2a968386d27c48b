from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from core.media import media_file
from listings import views as listing_views

# A request's path is matched against these in order, one pattern after another: the hottest pages come first (the
# search and the property page, then the payment panel that polls), so that they are found after a few patterns, not
# thirty (bench/instructions.py: property page 9.60 -> 9.37 M, poll 2.74 -> 2.71 M). No two patterns here match the
# same path, so the order decides nothing else.
urlpatterns = [
    path("", listing_views.home, name="home"),
    path("listings/", include("listings.urls")),
    # The payment panel under /trips/<ref>/ and M-Pesa's callbacks under /payments/.
    path("", include("mpesa.urls")),
    path("", include("core.urls")),
    # Booking pages live under /listings/<slug>/book/, /trips/ and /host/bookings/ beside the listings' own URLs.
    path("", include("reservations.urls")),
    # Reviews under /trips/<ref>/review/, /host/bookings/<ref>/review/, /listings/<slug>/reviews/ and /hosts/<id>/.
    path("", include("reviews.urls")),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("api/", include("api.urls")),
    path("host/", include("listings.urls_host")),
    path("support/", include("support.urls")),
    path("notifications/", include("notifications.urls")),
    path("admin/", admin.site.urls),
]

if settings.MPESA_ENV == "emulator":
    # Our own Daraja, reached over HTTP through MPESA_BASE_URL; with sandbox or production it does not exist.
    urlpatterns.append(path("daraja/", include("daraja_emulator.urls")))

if settings.SMS_ENV == "emulator":
    # Our own Africa's Talking, reached over HTTP through AT_BASE_URL; with sandbox or production it does not exist.
    urlpatterns.append(path("africastalking/", include("africastalking_emulator.urls")))

# Photos on this machine's disk: served with DEBUG on (make run) or from a declared persistent disk; with a bucket
# their URLs point at the bucket and this answers 404.
urlpatterns.append(path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media_file, name="media"))

handler500 = "core.views.server_error"  # under /api/ answered as problem+json (api.middleware)
