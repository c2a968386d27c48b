"""Served under /daraja/ only when MPESA_ENV=emulator (see config/urls.py)."""

from django.urls import path, re_path

from . import views

app_name = "daraja_emulator"

urlpatterns = [
    path("oauth/v1/generate", views.oauth_generate, name="oauth"),
    path("mpesa/stkpush/v1/processrequest", views.stk_push, name="stk-push"),
    path("mpesa/stkpushquery/v1/query", views.stk_query, name="stk-query"),
    path("mpesa/transactionstatus/v1/query", views.transaction_status, name="transaction-status"),
    path("mpesa/reversal/v1/request", views.reversal, name="reversal"),
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
