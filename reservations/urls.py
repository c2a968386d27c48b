from django.urls import path

from reservations import views

app_name = "reservations"

urlpatterns = [
    path("listings/<slug:slug>/book/", views.booking_new, name="booking-new"),
    path("trips/", views.trip_list, name="trip-list"),
    path("trips/<str:ref>/cancel/", views.trip_cancel, name="trip-cancel"),
    path("host/bookings/", views.host_bookings, name="host-bookings"),
    path("host/bookings/<str:ref>/cancel/", views.host_booking_cancel, name="host-booking-cancel"),
]
