"""One listing's reads: its public page, the host's own listing and photos, what publishing still needs."""

from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from core.models import User
from core.prepared import PreparedQuery
from listings.models import Amenity, Listing, ListingPhoto
from listings.photos import ImageSet, image_set


def _published_query(*, slug: str):
    return Listing.objects.select_related("host").filter(is_published=True, slug=slug)


def _published_or_hosted_query(*, slug: str, user_id: int):
    return Listing.objects.select_related("host").filter(Q(is_published=True) | Q(host_id=user_id), slug=slug)


# Compiled once per thread (core/prepared.py): the listing with its host was the property page's costliest query to
# build, 0.75 ms of CPU, for 0.03 ms to send (bench/demo_pages.py, "property page").
_PUBLISHED = PreparedQuery(_published_query)
_PUBLISHED_OR_HOSTED = PreparedQuery(_published_or_hosted_query)


def listing_get_for_viewer(*, slug: str, user) -> Listing:
    """A listing's public page: published listings for everyone, an unpublished one for its host only (else 404)."""
    if user is not None and user.is_authenticated:
        found = _PUBLISHED_OR_HOSTED.rows(slug=slug, user_id=user.pk)
    else:
        found = _PUBLISHED.rows(slug=slug)
    if not found:
        raise Http404("No listing matches the given query.")
    return found[0]


def listing_amenities(*, listing: Listing) -> list[Amenity]:
    return list(listing.amenities.order_by("position", "id"))


def _amenity_codes_query(*, listing_id: int):
    return (
        Listing.amenities.through.objects.filter(listing_id=listing_id)
        .order_by("amenity__position", "amenity__id")
        .values_list("amenity__code", flat=True)
    )


# Compiled once per thread (core/prepared.py), as the gallery's: see _GALLERY_ROWS.
_AMENITY_CODES = PreparedQuery(_amenity_codes_query)


def listing_amenity_names(*, listing: Listing) -> list[str]:
    """The names of the listing's amenities in the catalogue's order, as the property page lists them: read as codes
    and named from the choices (an Amenity's own name builds its field's choices anew each time)."""
    names = dict(Amenity.Code.choices)
    return [str(names.get(code, code)) for code in _AMENITY_CODES.rows(listing_id=listing.pk)]


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


def _gallery_rows_query(*, listing_id: int):
    return (
        ListingPhoto.objects.filter(listing_id=listing_id)
        .order_by("order", "id")
        .values_list("image", "medium", "thumbnail", "width", "height", "caption")
    )


# Compiled once per thread (core/prepared.py): building the property page's small queries cost more CPU than
# PostgreSQL spent on them (bench/demo_pages.py, "property page").
_GALLERY_ROWS = PreparedQuery(_gallery_rows_query)


def listing_gallery(*, listing: Listing) -> list[GalleryPhoto]:
    """The listing's photos in the host's order as the property page shows them, read as values (the page only
    prints them: no model instances, no file objects)."""
    url = default_storage.url
    return [
        GalleryPhoto(
            url=url(image),
            caption=caption,
            sizes=image_set(url=url, image=image, medium=medium, thumbnail=thumbnail, width=width, height=height),
        )
        for image, medium, thumbnail, width, height, caption in _GALLERY_ROWS.rows(listing_id=listing.pk)
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
