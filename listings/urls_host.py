from django.urls import path

from listings import views_host

app_name = "host"

urlpatterns = [
    path("", views_host.host_dashboard, name="dashboard"),
    path("listings/new/", views_host.host_listing_new, name="listing-new"),
    path("listings/<slug:slug>/edit/", views_host.host_listing_edit, name="listing-edit"),
    path("listings/<slug:slug>/publish/", views_host.host_listing_publish, name="listing-publish"),
    path("listings/<slug:slug>/photos/", views_host.host_photo_add, name="photo-add"),
    path("listings/<slug:slug>/photos/order/", views_host.host_photo_reorder, name="photo-reorder"),
    path("listings/<slug:slug>/photos/<int:photo_id>/", views_host.host_photo_update, name="photo-update"),
    path("listings/<slug:slug>/photos/<int:photo_id>/move/", views_host.host_photo_move, name="photo-move"),
    path("listings/<slug:slug>/photos/<int:photo_id>/delete/", views_host.host_photo_delete, name="photo-delete"),
    path("listings/<slug:slug>/calendar/", views_host.host_calendar, name="listing-calendar"),
]
