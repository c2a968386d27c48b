"""Served under /daraja/ only when MPESA_ENV=emulator (see config/urls.py)."""

from django.urls import path, re_path

from core.daraja_wire import OAUTH_PATH, REVERSAL_PATH, STK_PUSH_PATH, STK_QUERY_PATH, TRANSACTION_STATUS_PATH

from . import views

app_name = "daraja_emulator"


def _under_daraja(endpoint: str) -> str:
    """A Daraja endpoint path relative to the /daraja/ mount."""
    return endpoint.removeprefix("/")


urlpatterns = [
    path(_under_daraja(OAUTH_PATH), views.oauth_generate, name="oauth"),
    path(_under_daraja(STK_PUSH_PATH), views.stk_push, name="stk-push"),
    path(_under_daraja(STK_QUERY_PATH), views.stk_query, name="stk-query"),
    path(_under_daraja(TRANSACTION_STATUS_PATH), views.transaction_status, name="transaction-status"),
    path(_under_daraja(REVERSAL_PATH), views.reversal, name="reversal"),
    # Any other Daraja path answers like Daraja does for a wrong path.
    re_path(r"^(?:oauth|mpesa)/", views.resource_not_found, name="not-found"),
    path("phone/", views.phone, name="phone"),
    path("phone/<str:checkout_request_id>/approve/", views.phone_answer, {"action": "approve"}, name="phone-approve"),
    path("phone/<str:checkout_request_id>/cancel/", views.phone_answer, {"action": "cancel"}, name="phone-cancel"),
    path("__emulator/", views.hook_log, name="hook-log"),
    path("__emulator/stk/<str:checkout_request_id>/outcome", views.hook_push_outcome, name="hook-push-outcome"),
    path("__emulator/phone/<str:phone_number>/outcome", views.hook_phone_outcome, name="hook-phone-outcome"),
    path("__emulator/reset", views.hook_reset, name="hook-reset"),
    path("__emulator/clock", views.hook_clock, name="hook-clock"),
    path("__emulator/dispatch", views.hook_dispatch, name="hook-dispatch"),
]
