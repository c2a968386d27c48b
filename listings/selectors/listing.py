"""One listing's reads: its public page, the host's own listing and photos, what publishing still needs."""

from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from core.models import User
from listings.models import Amenity, Listing, ListingPhoto
from listings.photos import ImageSet, image_set


def listing_get_for_viewer(*, slug: str, user) -> Listing:
    """A listing's public page: published listings for everyone, an unpublished one for its host only (else 404)."""
    visible = Q(is_published=True)
    if user is not None and user.is_authenticated:
        visible |= Q(host=user)
    return get_object_or_404(Listing.objects.select_related("host").filter(visible), slug=slug)


def listing_amenities(*, listing: Listing) -> list[Amenity]:
    return list(listing.amenities.order_by("position", "id"))


def listing_amenity_names(*, listing: Listing) -> list[str]:
    """The names of the listing's amenities in the catalogue's order, as the property page lists them: read as codes
    and named from the choices (an Amenity's own name builds its field's choices anew each time)."""
    names = dict(Amenity.Code.choices)
    codes = listing.amenities.order_by("position", "id").values_list("code", flat=True)
    return [str(names.get(code, code)) for code in codes]


def listing_get_for_host(*, host: User, slug: str) -> Listing:
    """The host's own listing by slug; 404 for anyone else's, so that its existence is not confirmed."""
    return get_object_or_404(Listing.objects.filter(host=host), slug=slug)


def listing_photo_get_for_host(*, host: User, slug: str, photo_id: int) -> ListingPhoto:
    """A photo of the host's own listing; 404 for anyone else's."""
    return get_object_or_404(
        ListingPhoto.objects.select_related("listing").filter(listing__host=host, listing__slug=slug), pk=photo_id
    )


@dataclass(frozen=True)
class GalleryPhoto:
    """One photo of the property page's gallery: its full-size URL, caption and the sizes an <img> offers."""

    url: str
    caption: str
    sizes: ImageSet


def listing_gallery(*, listing: Listing) -> list[GalleryPhoto]:
    """The listing's photos in the host's order as the property page shows them, read as values (the page only
    prints them: no model instances, no file objects)."""
    rows = ListingPhoto.objects.filter(listing=listing).order_by("order", "id")
    url = default_storage.url
    return [
        GalleryPhoto(
            url=url(image),
            caption=caption,
            sizes=image_set(url=url, image=image, medium=medium, thumbnail=thumbnail, width=width, height=height),
        )
        for image, medium, thumbnail, width, height, caption in rows.values_list(
            "image", "medium", "thumbnail", "width", "height", "caption"
        )
    ]


def listing_photos(*, listing: Listing) -> list[ListingPhoto]:
    """The listing's photos in the host's order: its gallery, and the host's photo list."""
    return list(ListingPhoto.objects.filter(listing=listing).order_by("order", "id"))


def listing_publish_missing(*, listing: Listing) -> list[str]:
    """What the listing still lacks before it can be published, in words a host reads; empty when it is ready."""
    missing = []
    if not listing.photos.exists():
        missing.append(_("at least one photo"))
    if not listing.nightly_price_kes:
        missing.append(_("a nightly price"))
    if not listing.max_guests:
        missing.append(_("the number of guests it sleeps"))
    return missing
