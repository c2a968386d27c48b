from django.urls import path

from listings import views

app_name = "listings"

urlpatterns = [
    path("", views.listing_search, name="search"),
    path("<slug:slug>/", views.listing_detail, name="listing-detail"),
    path("<slug:slug>/quote/", views.listing_quote, name="listing-quote"),
]
