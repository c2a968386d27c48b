"""Listings' cover photos, read in the same query as the listings that show them."""

from django.db.models import CharField, JSONField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, JSONObject, NullIf

from listings.models import Listing, ListingPhoto
from listings.photos import ImageSet, image_set, photo_url


def _first_photo(listing_id: OuterRef) -> QuerySet[ListingPhoto]:
    return ListingPhoto.objects.filter(listing_id=listing_id).order_by("order", "id")


def listing_cover_name(listing_id: OuterRef) -> Subquery:
    """The file name of a listing's cover, its first photo (the thumbnail, else the image; None without photos),
    as a subquery for a query of listings or of rows that point at one (`listing_id` names that column)."""
    name = Coalesce(NullIf("thumbnail", Value("")), "image", output_field=CharField())
    return Subquery(_first_photo(listing_id).annotate(name=name).values("name")[:1])


def cover_url(name: str | None) -> str:
    """A cover file name from listing_cover_name as a URL ("" without photos)."""
    return photo_url(name) if name else ""


def listing_cover_sizes(listing_id: OuterRef) -> Subquery:
    """Every stored size of a listing's cover and the display image's width and height (None without photos), as a
    subquery like listing_cover_name's; cover_image_set makes it an ImageSet."""
    sizes = JSONObject(image="image", medium="medium", thumbnail="thumbnail", width="width", height="height")
    return Subquery(_first_photo(listing_id).annotate(sizes=sizes).values("sizes")[:1], output_field=JSONField())


def cover_image_set(sizes: dict | None) -> ImageSet | None:
    """A cover from listing_cover_sizes as an ImageSet for <img src srcset width height> (None without photos)."""
    if not sizes:
        return None
    return image_set(
        url=photo_url,
        image=sizes["image"] or "",
        medium=sizes["medium"] or "",
        thumbnail=sizes["thumbnail"] or "",
        width=sizes["width"],
        height=sizes["height"],
    )


def cover_thumbnail_url(sizes: dict | None) -> str:
    """The URL of a cover's thumbnail (else its image) from listing_cover_sizes ("" without photos)."""
    if not sizes:
        return ""
    return cover_url(sizes["thumbnail"] or sizes["image"])


def with_cover(queryset: QuerySet[Listing]) -> QuerySet[Listing]:
    """Each listing with its cover's sizes (`cover_sizes`), so a page of cards costs no extra query."""
    return queryset.annotate(cover_sizes=listing_cover_sizes(OuterRef("pk")))
