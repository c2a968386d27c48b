"""Mounted at /notifications/."""

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    # The address Africa's Talking's dashboard is given: core.africastalking_wire.DELIVERY_REPORT_PATH.
    path("preferences/", views.preferences, name="preferences"),
    path("sms/delivery/<str:token>/", views.sms_delivery_report, name="sms-delivery-report"),
]
