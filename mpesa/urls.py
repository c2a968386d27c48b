from django.urls import path, re_path

from mpesa import views

app_name = "mpesa"

urlpatterns = [
    path("trips/<str:ref>/", views.trip_detail_page, name="trip-detail"),
    path("trips/<str:ref>/pay/", views.booking_pay, name="booking-pay"),
    path("trips/<str:ref>/payment-status/", views.payment_status, name="payment-status"),
    path("trips/<str:ref>/payment-check/", views.payment_check_view, name="payment-check"),
    path("trips/<str:ref>/payment-code/", views.payment_code, name="payment-code"),
    path("payments/stk-callback/<str:token>/", views.stk_callback, name="stk-callback"),
    path("payments/result/<str:token>/", views.async_result, name="result"),
    path("payments/timeout/<str:token>/", views.async_result, name="timeout"),
    # The same endpoints without the trailing slash, so that APPEND_SLASH never redirects a caller's POST.
    re_path(r"^payments/stk-callback/(?P<token>[^/]{1,80})$", views.stk_callback),
    re_path(r"^payments/(?:result|timeout)/(?P<token>[^/]{1,80})$", views.async_result),
]
