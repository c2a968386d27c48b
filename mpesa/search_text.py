"""Each payment's search column: it carries its booking's people and place as one normalised text, which the support
console's search reads (support.selectors).

`Payment.search_text` holds the booker's name and e-mail address, the listing's title and every guest's name and
e-mail address, each lower-cased, without accents and with single spaces, one per line (so a fragment never spans
two of them). The console's name search is then one read of payments through a trigram index, newest first.

Who keeps it up to date:
- `payment_start` writes it when the payment is created (the guests are written by the hold, before any payment);
- the receivers below rewrite it when a booker's name or e-mail address or a listing's title changes, whatever
  saved it: the profile page, allauth's e-mail management, the admin, `listing_update`. These values are written by
  code outside our services (allauth, the admin), so the save is the one place that sees every change. A
  `QuerySet.update()` of those fields bypasses it and must call `payment_search_text_refresh` itself.
Guest rows are written once, by the hold, before any payment exists; a payment started meanwhile by a request that
read the old name keeps it until the next change (no lock is shared with a rename).
"""

import unicodedata
from collections.abc import Iterable

from django.db.models import Case, Value, When
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from core.models import User
from listings.models import Listing
from mpesa.models import Payment
from reservations.models import Booking

SEPARATOR = "\n"  # never inside a normalised fragment, whose white space is collapsed to single spaces
WATCHED = {User: {"full_name", "email"}, Listing: {"title"}}
WRITE_BATCH = 500


def search_normalise(text: str) -> str:
    """Lower-case, accents removed, white space collapsed: "  Zoë  NJERI " -> "zoe njeri". The same for the stored
    text and for what an agent types."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(text.casefold().split())


def booking_search_texts(*, booking_ids: Iterable[int]) -> dict[int, str]:
    """Each booking's search text, in one query (a row per guest). Duplicates, such as the booker's own guest
    row, are written once."""
    rows = (
        Booking.objects.filter(pk__in=list(booking_ids))
        .order_by("pk", "guests__position")
        .values_list("pk", "booker__full_name", "booker__email", "listing__title", "guests__full_name", "guests__email")
    )
    parts: dict[int, list[str]] = {}
    for booking_id, *values in rows:
        seen = parts.setdefault(booking_id, [])
        for value in values:
            text = search_normalise(value or "")
            if text and text not in seen:
                seen.append(text)
    return {booking_id: SEPARATOR.join(seen) for booking_id, seen in parts.items()}


def payment_search_text_refresh(*, payments) -> int:
    """Rewrite the search text of these payments (a queryset) where it differs from their booking's. Returns how
    many changed. Three queries at most: the payments, their bookings' texts, one UPDATE a batch."""
    current = list(payments.order_by().values_list("pk", "booking_id", "search_text"))
    if not current:
        return 0
    texts = booking_search_texts(booking_ids={booking_id for _, booking_id, _ in current})
    stale = [(pk, texts.get(booking_id, "")) for pk, booking_id, text in current if texts.get(booking_id, "") != text]
    for start in range(0, len(stale), WRITE_BATCH):
        batch = stale[start : start + WRITE_BATCH]
        Payment.objects.filter(pk__in=[pk for pk, _ in batch]).update(
            search_text=Case(*(When(pk=pk, then=Value(text)) for pk, text in batch))
        )
    return len(stale)


def _watched(instance) -> tuple:
    return tuple(getattr(instance, name) for name in sorted(WATCHED[type(instance)]))


@receiver(pre_save, sender=User, dispatch_uid="support_search_user_before")
@receiver(pre_save, sender=Listing, dispatch_uid="support_search_listing_before")
def _remember_watched(sender, instance, raw: bool = False, update_fields=None, **kwargs) -> None:
    """The stored name, e-mail address or title before the save (one lookup by primary key), so that the payments
    are read and rewritten only when one of them changes: a listing can have thousands."""
    instance._search_before = None
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and not WATCHED[sender] & set(update_fields):
        return
    instance._search_before = (
        type(instance)._base_manager.filter(pk=instance.pk).values_list(*sorted(WATCHED[sender])).first()
    )


@receiver(post_save, sender=User, dispatch_uid="support_search_user")
def _person_saved(sender, instance: User, created: bool, **kwargs) -> None:
    """A booker's new name or e-mail address is found by the console (their guest rows keep the names given)."""
    before = getattr(instance, "_search_before", None)
    if not created and before is not None and before != _watched(instance):
        payment_search_text_refresh(payments=Payment.objects.filter(booking__booker=instance))


@receiver(post_save, sender=Listing, dispatch_uid="support_search_listing")
def _listing_saved(sender, instance: Listing, created: bool, **kwargs) -> None:
    before = getattr(instance, "_search_before", None)
    if not created and before is not None and before != _watched(instance):
        payment_search_text_refresh(payments=Payment.objects.filter(booking__listing=instance))
