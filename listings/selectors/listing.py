"""One listing's reads: its public page, the host's own listing and photos, what publishing still needs."""

import functools
from dataclasses import dataclass

from django.db.models import F, IntegerField, Q, QuerySet, Value
from django.db.models.fetch_modes import FETCH_ONE
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.models import User
from core.prepared import PreparedQuery, instance_from_db
from listings.models import Amenity, Listing, ListingPhoto
from listings.photos import ImageSet, image_set, photo_url


def visible_listings(*, slug: str, user_id: int | None) -> QuerySet:
    """The listing at `slug` if its public page may be shown: published, or its host's own (the signed-in user_id;
    None for a visitor)."""
    shown = Q(is_published=True) if user_id is None else Q(is_published=True) | Q(host_id=user_id)
    return Listing.objects.filter(shown, slug=slug)


def _published_query(*, slug: str):
    return visible_listings(slug=slug, user_id=None).select_related("host")


def _published_or_hosted_query(*, slug: str, user_id: int):
    return visible_listings(slug=slug, user_id=user_id).select_related("host")


# A listing with its host as one row of values, as its public page shows them (the property page's statement reads
# it beside its nights and its gallery): the listing's columns but the details a guest gets once a booking is
# confirmed and its times of creation, then the host's public face. The public page has no use for the others (the
# host's password, e-mail address and phone numbers among them): left out, they are not read into the page at all,
# and the statement's other rows (the nights', the gallery's) carry 30 empty columns rather than 46: the driver's CPU
# for the property page's statement 133 -> 83 us (bench/instructions.py, property page: 8.14 -> 7.99 M).
_PRIVATE_LISTING_FIELDS = {
    "created_at",
    "updated_at",
    "street_address",
    "directions",
    "check_in_instructions",
    "host_phone",
}
LISTING_ROW_FIELDS = tuple(
    field.attname for field in Listing._meta.concrete_fields if field.attname not in _PRIVATE_LISTING_FIELDS
)
HOST_ROW_FIELDS = ("id", "full_name", "public_id")
LISTING_ROW_COLUMNS = (*LISTING_ROW_FIELDS, *(f"host__{name}" for name in HOST_ROW_FIELDS))


def listing_from_row(values, *, db: str) -> Listing:
    """The listing, with its host, that select_related("host").only(*LISTING_ROW_COLUMNS) would make of the
    LISTING_ROW_COLUMNS `values`: the fields left out are deferred (read on first use)."""
    count = len(LISTING_ROW_FIELDS)
    listing = instance_from_db(Listing, db, LISTING_ROW_FIELDS, values[:count], FETCH_ONE)
    host = instance_from_db(User, db, HOST_ROW_FIELDS, values[count:], FETCH_ONE)
    Listing.host.field.set_cached_value(listing, host)
    return listing


# Compiled once per thread (core/prepared.py): the listing with its host (the calendar and quote fragments, the booking
# page) cost 0.75 ms of CPU to build for 0.03 ms to send, when it was the property page's read (bench/demo_pages.py).
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


# A gallery row: kind (GALLERY_PHOTO or GALLERY_AMENITY), position, id, then a photo's image, medium, thumbnail,
# width, height and caption, or an amenity's code in the image column.
GALLERY_COLUMNS = (
    "u_kind", "u_position", "u_id", "u_image", "u_medium", "u_thumbnail", "u_width", "u_height", "u_caption",
)  # fmt: skip
GALLERY_PHOTO, GALLERY_AMENITY = 0, 1


def gallery_rows(*, listing_id: int, leading: dict | None = None) -> list[QuerySet]:
    """The listing's photos and its amenities as two querysets of gallery rows, for a UNION ALL (unordered), each
    row after the `leading` expressions (to line up with other rows of the union)."""
    leading = leading or {}
    photos = (
        ListingPhoto.objects.filter(listing_id=listing_id)
        .order_by()
        .annotate(
            **leading,
            u_kind=Value(GALLERY_PHOTO),
            u_position=F("order"),
            u_id=F("id"),
            u_image=F("image"),
            u_medium=F("medium"),
            u_thumbnail=F("thumbnail"),
            u_width=F("width"),
            u_height=F("height"),
            u_caption=F("caption"),
        )
        .values_list(*leading, *GALLERY_COLUMNS)
    )
    amenities = (
        Listing.amenities.through.objects.filter(listing_id=listing_id)
        .order_by()
        .annotate(
            **leading,
            u_kind=Value(GALLERY_AMENITY),
            u_position=F("amenity__position"),
            u_id=F("amenity__id"),
            u_image=F("amenity__code"),
            u_medium=Value(""),
            u_thumbnail=Value(""),
            u_width=Value(None, output_field=IntegerField()),
            u_height=Value(None, output_field=IntegerField()),
            u_caption=Value(""),
        )
        .values_list(*leading, *GALLERY_COLUMNS)
    )
    return [photos, amenities]


@functools.cache
def _amenity_names(language: str | None) -> dict[str, str]:
    """Each amenity's name in `language`, translated once per language rather than once per property page."""
    return {code: str(name) for code, name in Amenity.Code.choices}


def gallery_from_rows(rows) -> tuple[list[GalleryPhoto], list[str]]:
    """The property page's photos in the host's order and its amenities' names in the catalogue's order, from
    gallery rows in any order. Values only (the page only prints them): no model instances, no file objects, and
    an Amenity's own name would build its field's choices anew each time."""
    url = photo_url
    names = _amenity_names(get_language())
    photos, amenities = [], []
    for kind, _position, _id, image, medium, thumbnail, width, height, caption in sorted(rows):
        if kind == GALLERY_AMENITY:
            amenities.append(names.get(image, image))
            continue
        sizes = image_set(url=url, image=image, medium=medium, thumbnail=thumbnail, width=width, height=height)
        photos.append(GalleryPhoto(url=url(image), caption=caption, sizes=sizes))
    return photos, amenities


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
