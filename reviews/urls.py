from django.urls import path

from reviews import views

app_name = "reviews"

urlpatterns = [
    path("trips/<str:ref>/review/", views.guest_review, name="guest-review"),
    path("host/bookings/<str:ref>/review/", views.host_review, name="host-review"),
    path("host/bookings/<str:ref>/guest-record/", views.host_guest_record, name="host-guest-record"),
    path("listings/<slug:slug>/reviews/", views.listing_reviews, name="listing-reviews"),
    path("listings/<slug:slug>/report/", views.report_listing, name="report-listing"),
    path("reviews/<int:review_id>/report/", views.report_review, name="report-review"),
    path("hosts/<str:public_id>/", views.host_profile, name="host-profile"),
]
