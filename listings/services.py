"""Every change to listings, their photos and their calendars. Each function owns its transaction."""

import datetime
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.crypto import get_random_string
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.clock import local_date
from core.models import User
from listings.models import Amenity, CalendarDay, Listing, ListingPhoto
from listings.payment_guard import GUARDED_LISTING_FIELDS, off_platform_findings, off_platform_message
from listings.photos import PhotoError, photo_medium_from_display, photo_prepare
from listings.selectors import CALENDAR_HORIZON_DAYS, listing_booked_nights, listing_publish_missing


class ListingError(Exception):
    """A change to a listing that the rules refuse; the message is safe to show to the host."""


# ---------------------------------------------------------------------------------------------------------------
# Host side: listings, photos, publishing and the calendar editor.

MAX_PHOTOS_PER_LISTING = 20
# How many nights at once a host may set; how far ahead is the calendar's horizon, CALENDAR_HORIZON_DAYS.
CALENDAR_MAX_RANGE_NIGHTS = 366

LISTING_EDITABLE_FIELDS = (
    "title",
    "description",
    "property_type",
    "county",
    "town",
    "max_guests",
    "bedrooms",
    "beds",
    "bathrooms",
    "nightly_price_kes",
    "cleaning_fee_kes",
    "weekly_discount_percent",
    "monthly_discount_percent",
    "min_nights",
    "max_nights",
    "advance_notice_days",
    "same_day_cutoff_hour",
    "check_in_time",
    "check_out_time",
    "house_rules",
    "cancellation_policy",
    "street_address",
    "directions",
    "check_in_instructions",
    "host_phone",
)


def _first_message(error: ValidationError) -> str:
    return error.messages[0] if error.messages else _("Please check the listing's details.")


def _new_slug(title: str) -> str:
    base = slugify(title)[:100].strip("-") or "listing"
    if not Listing.objects.filter(slug=base).exists():
        return base
    return f"{base}-{get_random_string(6, allowed_chars='abcdefghijkmnpqrstuvwxyz23456789')}"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return _("{items} and {last}").format(items=", ".join(items[:-1]), last=items[-1])


def _refuse_off_platform(text: str) -> None:
    findings = off_platform_findings(text or "")
    if findings:
        raise ListingError(off_platform_message(findings))


def _apply_fields(listing: Listing, fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(LISTING_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable by a host: {sorted(unknown)}")
    # The public text that is written now (a listing saved before the guard keeps what it has until edited).
    for name in GUARDED_LISTING_FIELDS:
        if name in fields:
            _refuse_off_platform(fields[name])
    for name, value in fields.items():
        setattr(listing, name, value)


@transaction.atomic
def listing_create(*, host: User, fields: dict[str, Any], amenities: Iterable[Amenity] = ()) -> Listing:
    """Create an unpublished listing with a unique slug that never changes. Raises ListingError."""
    listing = Listing(host=host, is_published=False)
    _apply_fields(listing, fields)
    for _attempt in range(3):
        listing.slug = _new_slug(listing.title)
        try:
            listing.full_clean()
            with transaction.atomic():
                listing.save()
            break
        except ValidationError as error:
            if "slug" in getattr(error, "error_dict", {}):
                continue
            raise ListingError(_first_message(error))
        except IntegrityError:  # the same slug chosen at the same moment by another request
            listing.pk = None
            continue
    else:
        raise ListingError(_("Could not save this listing; please try again."))
    listing.amenities.set(amenities)
    return listing


@transaction.atomic
def listing_update(*, listing: Listing, fields: dict[str, Any], amenities: Iterable[Amenity] | None = None) -> Listing:
    """Save a host's edits; the slug stays. A published listing must keep what publishing needs. Raises ListingError."""
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    _apply_fields(listing, fields)
    try:
        listing.full_clean()
    except ValidationError as error:
        raise ListingError(_first_message(error))
    if listing.is_published:
        missing = listing_publish_missing(listing=listing)
        if missing:
            raise ListingError(
                _("A published listing needs {items}. Unpublish it first to remove them.").format(items=_join(missing))
            )
    listing.save()
    if amenities is not None:
        listing.amenities.set(amenities)
    return listing


@transaction.atomic
def listing_publish(*, listing: Listing) -> Listing:
    """Publish a listing that has a photo, a price and a capacity. Raises ListingError naming what is missing."""
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    missing = listing_publish_missing(listing=listing)
    if missing:
        raise ListingError(_("To publish, add {items}.").format(items=_join(missing)))
    if not listing.is_published:
        listing.is_published = True
        listing.save(update_fields=["is_published", "updated_at"])
    return listing


@transaction.atomic
def listing_unpublish(*, listing: Listing) -> Listing:
    """Take a listing out of search and off its public page. Bookings already made stay."""
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    if listing.is_published:
        listing.is_published = False
        listing.save(update_fields=["is_published", "updated_at"])
    return listing


def _delete_files_on_commit(*names: str) -> None:
    def delete() -> None:
        for name in names:
            if name:
                default_storage.delete(name)

    transaction.on_commit(delete)


def _renumber(listing: Listing) -> list[ListingPhoto]:
    photos = list(listing.photos.order_by("order", "id"))
    changed = []
    for position, photo in enumerate(photos):
        if photo.order != position:
            photo.order = position
            changed.append(photo)
    if changed:
        ListingPhoto.objects.bulk_update(changed, ["order"])
    return photos


def _photo_limit_error() -> ListingError:
    return ListingError(
        _("A listing can have at most {limit} photos; delete one first.").format(limit=MAX_PHOTOS_PER_LISTING)
    )


def listing_photo_add(*, listing: Listing, upload: UploadedFile, caption: str = "") -> ListingPhoto:
    """Check and re-encode an upload (no EXIF), store it and add it last. Raises ListingError."""
    if listing.photos.count() >= MAX_PHOTOS_PER_LISTING:  # refuse before decoding anything
        raise _photo_limit_error()
    _refuse_off_platform(caption)
    try:
        prepared = photo_prepare(upload=upload)
    except PhotoError as error:
        raise ListingError(str(error))
    # The files are written before the transaction: the storage may be a bucket across the network, and no
    # row lock should wait on it. If the row is not saved, the files are removed again.
    photo = ListingPhoto(
        listing=listing, caption=" ".join(caption.split())[:140], width=prepared.width, height=prepared.height
    )
    photo.image.save(prepared.display.name, prepared.display, save=False)
    photo.medium.save(prepared.medium.name, prepared.medium, save=False)
    photo.thumbnail.save(prepared.thumb.name, prepared.thumb, save=False)
    try:
        with transaction.atomic():
            locked = Listing.objects.select_for_update().get(pk=listing.pk)
            if locked.photos.count() >= MAX_PHOTOS_PER_LISTING:
                raise _photo_limit_error()
            last = locked.photos.aggregate(last=Max("order"))["last"]
            photo.listing = locked
            photo.order = 0 if last is None else last + 1
            photo.full_clean()
            photo.save()
    except BaseException:
        for name in photo.files:
            default_storage.delete(name)
        raise
    return photo


def listing_photo_fill_sizes(*, photo: ListingPhoto) -> bool:
    """Make the sizes a photo stored before they existed lacks (the medium size, from its display image) and record
    the display image's width and height. Returns whether anything was missing. A photo deleted meanwhile keeps
    nothing."""
    if photo.medium and photo.width and photo.height:
        return False
    with photo.image.open("rb") as display:
        medium, width, height = photo_medium_from_display(display=display)
    made = ""
    if not photo.medium:
        photo.medium.save(f"{PurePosixPath(photo.image.name).stem}-medium.jpg", medium, save=False)
        made = photo.medium.name
    updated = ListingPhoto.objects.filter(pk=photo.pk).update(medium=photo.medium.name, width=width, height=height)
    if not updated and made:
        default_storage.delete(made)
    photo.width, photo.height = width, height
    return True


@transaction.atomic
def listing_photo_update(*, photo: ListingPhoto, caption: str) -> ListingPhoto:
    """Change a photo's caption. Raises ListingError."""
    _refuse_off_platform(caption)
    photo.caption = " ".join(caption.split())
    try:
        photo.full_clean()
    except ValidationError as error:
        raise ListingError(_first_message(error))
    photo.save(update_fields=["caption", "updated_at"])
    return photo


@transaction.atomic
def listing_photo_move(*, photo: ListingPhoto, offset: int) -> list[ListingPhoto]:
    """Move a photo up (-1) or down (+1); the first photo is the cover. Returns the listing's photos in order."""
    listing = Listing.objects.select_for_update().get(pk=photo.listing_id)
    photos = _renumber(listing)
    index = next(i for i, p in enumerate(photos) if p.pk == photo.pk)
    target = index + (1 if offset > 0 else -1)
    if 0 <= target < len(photos):
        photos[index].order, photos[target].order = target, index
        ListingPhoto.objects.bulk_update([photos[index], photos[target]], ["order"])
        photos[index], photos[target] = photos[target], photos[index]
    return photos


@transaction.atomic
def listing_photo_reorder(*, listing: Listing, photo_ids: list[int]) -> list[ListingPhoto]:
    """Put the listing's photos in the order given, which must name each of them once. Raises ListingError."""
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    photos = {photo.pk: photo for photo in listing.photos.all()}
    if len(set(photo_ids)) != len(photo_ids):
        raise ListingError(_("The new order names a photo twice. Nothing was changed; please try again."))
    if not set(photo_ids) <= photos.keys():
        raise ListingError(_("The new order names a photo that is not on this listing. Nothing was changed."))
    if len(photo_ids) != len(photos):
        # Most likely a photo was added or deleted in another window since this page was loaded.
        raise ListingError(
            _("The new order leaves out some of this listing's photos. Nothing was changed; please try again.")
        )
    ordered = [photos[pk] for pk in photo_ids]
    changed = []
    for position, photo in enumerate(ordered):
        if photo.order != position:
            photo.order = position
            changed.append(photo)
    if changed:
        ListingPhoto.objects.bulk_update(changed, ["order"])
    return ordered


@transaction.atomic
def listing_photo_delete(*, photo: ListingPhoto) -> None:
    """Delete a photo and, once committed, its files. A published listing keeps at least one. Raises ListingError."""
    listing = Listing.objects.select_for_update().get(pk=photo.listing_id)
    if listing.is_published and listing.photos.count() <= 1:
        raise ListingError(_("A published listing needs at least one photo: add another first, or unpublish it."))
    names = photo.files
    photo.delete()
    _renumber(listing)
    _delete_files_on_commit(*names)


def _nights(first_night: datetime.date, last_night: datetime.date) -> list[datetime.date]:
    today = local_date()
    if last_night < first_night:
        raise ListingError(_("The last night is before the first night."))
    if first_night < today:
        raise ListingError(_("Nights in the past cannot be changed."))
    if last_night > today + datetime.timedelta(days=CALENDAR_HORIZON_DAYS):
        raise ListingError(_("The calendar can be set up to two years ahead."))
    count = (last_night - first_night).days + 1
    if count > CALENDAR_MAX_RANGE_NIGHTS:
        raise ListingError(_("Choose at most {limit} nights at a time.").format(limit=CALENDAR_MAX_RANGE_NIGHTS))
    return [first_night + datetime.timedelta(days=i) for i in range(count)]


def _upsert_nights(listing: Listing, nights: list[datetime.date], **values: Any) -> None:
    rows = [CalendarDay(listing=listing, date=night, **values) for night in nights]
    CalendarDay.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["listing", "date"], update_fields=list(values)
    )


def _drop_default_nights(listing: Listing, first_night: datetime.date, last_night: datetime.date) -> None:
    """A night with nothing set needs no row: the listing's defaults apply."""
    CalendarDay.objects.filter(
        listing=listing,
        date__range=(first_night, last_night),
        blocked=False,
        price_override_kes__isnull=True,
        min_nights_override__isnull=True,
    ).delete()


@transaction.atomic
def calendar_block(*, listing: Listing, first_night: datetime.date, last_night: datetime.date, note: str = "") -> None:
    """Block the nights first_night..last_night (inclusive) with a note. Raises ListingError if a booking holds one."""
    # The listing lock orders this against a guest's hold on the same listing.
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    nights = _nights(first_night, last_night)
    booked = listing_booked_nights(listing=listing, first_night=first_night, last_night=last_night)
    if booked:
        taken = ", ".join(
            _("{night} ({ref})").format(night=f"{night:%a %-d %b}", ref=ref) for night, ref in sorted(booked.items())
        )
        raise ListingError(_("Booked nights cannot be blocked: {nights}.").format(nights=taken))
    _upsert_nights(listing, nights, blocked=True, note=" ".join(note.split())[:140])


@transaction.atomic
def calendar_unblock(*, listing: Listing, first_night: datetime.date, last_night: datetime.date) -> None:
    """Open the nights first_night..last_night (inclusive) again; their notes go too. Raises ListingError."""
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    _nights(first_night, last_night)
    CalendarDay.objects.filter(listing=listing, date__range=(first_night, last_night)).update(blocked=False, note="")
    _drop_default_nights(listing, first_night, last_night)


@transaction.atomic
def calendar_set_price(
    *, listing: Listing, first_night: datetime.date, last_night: datetime.date, price_kes: int | None
) -> None:
    """Set the price of each night in the range, or with None go back to the nightly price. Raises ListingError."""
    if price_kes is not None and not 1 <= price_kes <= 10_000_000:
        raise ListingError(_("Enter a price per night between KES 1 and KES 10,000,000."))
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    nights = _nights(first_night, last_night)
    if price_kes is None:
        CalendarDay.objects.filter(listing=listing, date__range=(first_night, last_night)).update(
            price_override_kes=None
        )
        _drop_default_nights(listing, first_night, last_night)
    else:
        _upsert_nights(listing, nights, price_override_kes=price_kes)


@transaction.atomic
def calendar_set_min_nights(
    *, listing: Listing, first_night: datetime.date, last_night: datetime.date, min_nights: int | None
) -> None:
    """Set the minimum stay for check-ins on each night, or with None use the listing's. Raises ListingError."""
    if min_nights is not None and not 1 <= min_nights <= 365:
        raise ListingError(_("Enter a minimum stay between 1 and 365 nights."))
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    nights = _nights(first_night, last_night)
    if min_nights is None:
        CalendarDay.objects.filter(listing=listing, date__range=(first_night, last_night)).update(
            min_nights_override=None
        )
        _drop_default_nights(listing, first_night, last_night)
    else:
        _upsert_nights(listing, nights, min_nights_override=min_nights)
