from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from listings import views as listing_views

urlpatterns = [
    path("", listing_views.home, name="home"),
    path("", include("core.urls")),
    # Booking pages live under /listings/<slug>/book/, /trips/ and /host/bookings/ beside the listings' own URLs.
    path("", include("reservations.urls")),
    # The payment panel under /trips/<ref>/ and M-Pesa's callbacks under /payments/.
    path("", include("mpesa.urls")),
    path("listings/", include("listings.urls")),
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

if settings.DEBUG:
    # make run serves uploaded photos itself; deployed, they come from the storage's own URLs.
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler500 = "core.views.server_error"  # under /api/ answered as problem+json (api.middleware)
