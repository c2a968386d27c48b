"""Served under /africastalking/ only when SMS_ENV=emulator (see config/urls.py)."""

from django.urls import path, re_path

from core.africastalking_wire import MESSAGING_PATH

from . import views

app_name = "africastalking_emulator"

urlpatterns = [
    path(MESSAGING_PATH.removeprefix("/"), views.messaging, name="messaging"),
    re_path(r"^version1/", views.not_found, name="not-found"),
    path("phone/", views.phone, name="phone"),
    path("__emulator/", views.hook_messages, name="hook-messages"),
    path("__emulator/phone/<str:number>/outcome", views.hook_outcome, name="hook-outcome"),
    path("__emulator/reset", views.hook_reset, name="hook-reset"),
    path("__emulator/dispatch", views.hook_dispatch, name="hook-dispatch"),
]
