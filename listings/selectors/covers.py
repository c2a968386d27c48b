"""Listings' cover photos, read in the same query as the listings that show them."""

from django.core.files.storage import default_storage
from django.db.models import CharField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf

from listings.models import Listing, ListingPhoto


def listing_cover_name(listing_id: OuterRef) -> Subquery:
    """The file name of a listing's cover, its first photo (the thumbnail, else the image; None without photos),
    as a subquery for a query of listings or of rows that point at one (`listing_id` names that column)."""
    cover = ListingPhoto.objects.filter(listing_id=listing_id).order_by("order", "id")
    name = Coalesce(NullIf("thumbnail", Value("")), "image", output_field=CharField())
    return Subquery(cover.annotate(name=name).values("name")[:1])


def cover_url(name: str | None) -> str:
    """A cover file name from listing_cover_name as a URL ("" without photos)."""
    return default_storage.url(name) if name else ""


def with_cover(queryset: QuerySet[Listing]) -> QuerySet[Listing]:
    """Each listing with its cover's file name, so a page of cards costs no extra query."""
    return queryset.annotate(cover_name=listing_cover_name(OuterRef("pk")))
