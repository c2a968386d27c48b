from django.urls import path

from api import bookings, docs, host, listings

app_name = "api"

urlpatterns = [
    path("schema/", docs.Schema.as_view(), name="schema"),
    path("docs/", docs.Docs.as_view(), name="docs"),
    path("v1/listings/", listings.ListingSearch.as_view(), name="listing-search"),
    path("v1/listings/<slug:slug>/", listings.ListingDetail.as_view(), name="listing-detail"),
    path("v1/listings/<slug:slug>/availability/", listings.ListingAvailability.as_view(), name="listing-availability"),
    path("v1/listings/<slug:slug>/quote/", listings.ListingQuote.as_view(), name="listing-quote"),
    path("v1/bookings/", bookings.BookingCollection.as_view(), name="bookings"),
    path("v1/bookings/<str:reference>/", bookings.BookingDetail.as_view(), name="booking-detail"),
    path("v1/bookings/<str:reference>/cancel/", bookings.BookingCancel.as_view(), name="booking-cancel"),
    path("v1/bookings/<str:reference>/payments/", bookings.PaymentCollection.as_view(), name="payments"),
    path(
        "v1/bookings/<str:reference>/payments/<int:payment_id>/",
        bookings.PaymentDetail.as_view(),
        name="payment-detail",
    ),
    path(
        "v1/bookings/<str:reference>/payments/<int:payment_id>/check/",
        bookings.PaymentCheck.as_view(),
        name="payment-check",
    ),
    path("v1/host/listings/", host.HostListingCollection.as_view(), name="host-listings"),
    path("v1/host/listings/<slug:slug>/", host.HostListingDetail.as_view(), name="host-listing"),
    path("v1/host/listings/<slug:slug>/photos/", host.HostPhotoCollection.as_view(), name="host-photos"),
    path("v1/host/listings/<slug:slug>/photos/<int:photo_id>/", host.HostPhotoDetail.as_view(), name="host-photo"),
    path("v1/host/listings/<slug:slug>/calendar/", host.HostCalendar.as_view(), name="host-calendar"),
    path("v1/host/bookings/", host.HostBookings.as_view(), name="host-bookings"),
]
