"""The stay quote: the one place the stay rules and the price are computed."""

import datetime
import functools
from dataclasses import dataclass
from typing import NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.clock import local_time
from core.dates import DateNames, date_names
from core.money import MPESA_MAX_PAYMENT_KES, percent_of
from listings.models import Listing
from listings.selectors.nights import DAY, NightSettings, nights_settings_and_bookings


def short_date(day: datetime.date, names: DateNames | None = None) -> str:
    """'1 Dec', as Django's 'j M' gives it, for a quote's lines and reasons: a tenth of the date filter's time (a
    quote prints a line a night, and the property page's template time counts: bench/demo_pages.py, "property
    page"). `names`, when the caller has read them already (reading the active language costs 2 us)."""
    return f"{day.day} {(names or date_names()).months_short[day.month]}"


@dataclass(frozen=True)
class Stay:
    """Nights from check_in up to, not including, check_out: the check-out day is free for the next guest."""

    check_in: datetime.date
    check_out: datetime.date

    @functools.cached_property
    def nights(self) -> int:
        """Worked out once a stay: a dated search page asks its stay about 100 times (twelve quotes)."""
        return (self.check_out - self.check_in).days

    @functools.cached_property
    def check_in_label(self) -> str:
        return short_date(self.check_in)

    @functools.cached_property
    def check_out_label(self) -> str:
        return short_date(self.check_out)

    @functools.cached_property
    def night_dates(self) -> tuple[datetime.date, ...]:
        """Worked out once a stay, as its nights are: each of a search page's twelve quotes reads them twice
        (bench/instructions.py, dated search: 10.63 -> 10.36 M instructions)."""
        return tuple(self.check_in + i * DAY for i in range(self.nights))


class Night(NamedTuple):
    """One night of a quote and its price. Quotes and their nights are named tuples rather than frozen dataclasses,
    equally immutable: a frozen dataclass sets each field through object.__setattr__, and a search page builds
    twelve quotes and their nights."""

    date: datetime.date
    price_kes: int
    special_price: bool = False

    @property
    def label(self) -> str:
        """'Tue 1 Dec', as Django's 'D j M'."""
        names = date_names()
        return f"{names.weekdays_short[self.date.weekday()]} {short_date(self.date, names)}"


# What each refusal is called where a machine reads it (the API's error codes); the sentence stays for people.
REFUSAL_CODES = (
    "invalid_dates",
    "not_bookable",
    "min_guests",
    "max_guests",
    "past_check_in",
    "advance_notice",
    "same_day_cutoff",
    "max_nights",
    "dates_taken",
    "min_nights",
)


@dataclass(frozen=True)
class Refusal:
    code: str
    reason: str


class Quote(NamedTuple):
    """Either a bookable stay with its price line by line, or the reason it cannot be booked. A named tuple, as
    Night is."""

    stay: Stay
    guests: int
    reason: str = ""
    # The refusal's name for machines (the API): one of REFUSAL_CODES; empty when bookable.
    code: str = ""
    nights: tuple[Night, ...] = ()
    nights_total_kes: int = 0
    discount_name: str = ""
    discount_percent: int = 0
    discount_kes: int = 0
    cleaning_fee_kes: int = 0
    total_kes: int = 0
    cancellation_policy: str = ""

    @property
    def bookable(self) -> bool:
        return not self.reason

    @property
    def pays_in_instalments(self) -> bool:
        return self.total_kes > MPESA_MAX_PAYMENT_KES

    @property
    def instalment_limit_kes(self) -> int:
        """The most M-Pesa takes in one payment: each instalment's ceiling."""
        return MPESA_MAX_PAYMENT_KES

    def frozen_fields(self) -> dict:
        """What a booking keeps of its quote, so later price changes do not touch it: the booking's fields as
        booking_hold stores them."""
        return {
            "guest_count": self.guests,
            "nights": [{"date": night.date.isoformat(), "price_kes": night.price_kes} for night in self.nights],
            "nights_total_kes": self.nights_total_kes,
            "discount_name": str(self.discount_name),
            "discount_percent": self.discount_percent,
            "discount_kes": self.discount_kes,
            "cleaning_fee_kes": self.cleaning_fee_kes,
            "total_kes": self.total_kes,
            "cancellation_policy": self.cancellation_policy,
        }


@dataclass(frozen=True)
class LocalTime:
    """`now` in Nairobi as the stay rules read it: today's date and the hour. Worked out once for all the listings
    a search page quotes (each conversion reads the active time zone: three a listing were a tenth of the search's
    selector time; bench/demo_pages.py, "search, dated")."""

    today: datetime.date
    hour: int

    @classmethod
    def of(cls, now: datetime.datetime) -> "LocalTime":
        local = local_time(now)
        return cls(today=local.date(), hour=local.hour)


def earliest_check_in(*, listing: Listing, now: datetime.datetime | LocalTime) -> datetime.date:
    """The first night a stay may start, given the listing's advance notice and same-day cut-off."""
    local = now if isinstance(now, LocalTime) else LocalTime.of(now)
    if listing.advance_notice_days:
        return local.today + listing.advance_notice_days * DAY
    if local.hour >= listing.same_day_cutoff_hour:
        return local.today + DAY
    return local.today


def _stay_refusal(*, listing: Listing, stay: Stay, guests: int, local: LocalTime) -> Refusal | None:
    """The rules that need no calendar row. None when the stay passes them."""
    if stay.check_out <= stay.check_in:
        return Refusal("invalid_dates", _("Check-out must be after check-in."))
    if not listing.is_published or listing.nightly_price_kes is None or listing.max_guests is None:
        return Refusal("not_bookable", _("This place is not taking bookings."))
    if guests < 1:
        return Refusal("min_guests", _("Choose at least 1 guest."))
    if guests > listing.max_guests:
        return Refusal(
            "max_guests",
            ngettext(
                "This place sleeps at most %(count)d guest.",
                "This place sleeps at most %(count)d guests.",
                listing.max_guests,
            )
            % {"count": listing.max_guests},
        )
    if stay.check_in < local.today:
        return Refusal("past_check_in", _("Check-in can't be in the past."))
    earliest = earliest_check_in(listing=listing, now=local)
    if stay.check_in < earliest:
        if listing.advance_notice_days:
            return Refusal(
                "advance_notice",
                ngettext(
                    "The host needs %(count)d day's notice: the earliest check-in is %(day)s.",
                    "The host needs %(count)d days' notice: the earliest check-in is %(day)s.",
                    listing.advance_notice_days,
                )
                % {"count": listing.advance_notice_days, "day": short_date(earliest)},
            )
        return Refusal(
            "same_day_cutoff",
            _("Same-day bookings close at %(hour)02d:00: the earliest check-in is %(day)s.")
            % {"hour": listing.same_day_cutoff_hour, "day": short_date(earliest)},
        )
    if stay.nights > listing.max_nights:
        return Refusal("max_nights", _("Maximum stay is %(count)d nights.") % {"count": listing.max_nights})
    return None


def _priced_quote(
    *,
    listing: Listing,
    stay: Stay,
    guests: int,
    days: dict[datetime.date, NightSettings],
    taken: dict[datetime.date, str],
) -> Quote:
    """The calendar rules and the price, from the stay's calendar rows and the nights bookings hold."""
    refusal = _calendar_refusal(listing=listing, stay=stay, days=days, taken=taken)
    if refusal:
        return Quote(stay=stay, guests=guests, reason=refusal.reason, code=refusal.code)
    nights = _nights_priced(listing=listing, stay=stay, days=days)
    nights_total = sum(n.price_kes for n in nights)
    discount_name, discount_percent = _length_discount(listing=listing, stay=stay)
    discount = percent_of(nights_total, discount_percent)
    return Quote(
        stay=stay,
        guests=guests,
        nights=tuple(nights),
        nights_total_kes=nights_total,
        discount_name=discount_name,
        discount_percent=discount_percent,
        discount_kes=discount,
        cleaning_fee_kes=listing.cleaning_fee_kes,
        total_kes=nights_total - discount + listing.cleaning_fee_kes,
        cancellation_policy=listing.cancellation_policy,
    )


def _calendar_refusal(
    *, listing: Listing, stay: Stay, days: dict[datetime.date, NightSettings], taken: dict[datetime.date, str]
) -> Refusal | None:
    """The rules that need the calendar: every night free and open, and the minimum stay from the check-in night.
    None when the stay passes them."""
    unavailable = [d for d in stay.night_dates if d in taken or (d in days and days[d].blocked)]
    if unavailable:
        return Refusal("dates_taken", _unavailable_reason(unavailable))
    first = days.get(stay.check_in)
    min_nights = first.min_nights_override if first and first.min_nights_override else listing.min_nights
    if stay.nights < min_nights:
        return Refusal(
            "min_nights",
            _("Minimum stay is %(count)d nights from %(day)s.")
            % {"count": min_nights, "day": short_date(stay.check_in)},
        )
    return None


def _unavailable_reason(unavailable: list[datetime.date]) -> str:
    """The nights that are not available, the first three named."""
    labels = [short_date(d) for d in unavailable[:3]]
    if len(unavailable) > 3:
        labels.append(_("%(count)d more") % {"count": len(unavailable) - 3})
    text = (
        labels[0]
        if len(labels) == 1
        else _("%(list)s and %(last)s")
        % {
            "list": ", ".join(labels[:-1]),
            "last": labels[-1],
        }
    )
    return ngettext(
        "Not available on the night of %(days)s.", "Not available on the nights of %(days)s.", len(unavailable)
    ) % {"days": text}


def _nights_priced(*, listing: Listing, stay: Stay, days: dict[datetime.date, NightSettings]) -> list[Night]:
    """Each night at the host's price for that date, or the listing's nightly price."""
    nights = []
    for d in stay.night_dates:
        override = days[d].price_override_kes if d in days else None
        nights.append(Night(date=d, price_kes=override or listing.nightly_price_kes, special_price=bool(override)))
    return nights


def _length_discount(*, listing: Listing, stay: Stay) -> tuple[str, int]:
    """The discount a long stay earns (monthly from 28 nights, weekly from 7), as its name and percent; ("", 0)
    when none applies."""
    discount_name, discount_percent = "", 0
    if stay.nights >= 28 and listing.monthly_discount_percent >= listing.weekly_discount_percent:
        discount_name, discount_percent = _("Monthly discount"), listing.monthly_discount_percent
    elif stay.nights >= 7:
        discount_name, discount_percent = _("Weekly discount"), listing.weekly_discount_percent
    if not discount_percent:
        discount_name = ""
    return discount_name, discount_percent


def stay_quote(*, listing: Listing, stay: Stay, guests: int, now: datetime.datetime) -> Quote:
    """Quote a stay: every night's price and the total, or the reason it is not bookable. One calendar query."""
    return stay_quotes(listings=[listing], stay=stay, guests=guests, now=now)[listing.pk]


def stay_quote_from_nights(
    *,
    listing: Listing,
    stay: Stay,
    guests: int,
    now: datetime.datetime,
    days: dict[datetime.date, NightSettings],
    taken: dict[datetime.date, str],
) -> Quote:
    """stay_quote with the listing's calendar rows and taken nights already read over a range that holds the stay
    (a page that shows a month around it reads both in one query). No query."""
    refusal = _stay_refusal(listing=listing, stay=stay, guests=guests, local=LocalTime.of(now))
    if refusal:
        return Quote(stay=stay, guests=guests, reason=refusal.reason, code=refusal.code)
    return _priced_quote(listing=listing, stay=stay, guests=guests, days=days, taken=taken)


def stay_quotes(*, listings: list[Listing], stay: Stay, guests: int, now: datetime.datetime) -> dict[int, Quote]:
    """stay_quote for several listings at once: one calendar query for all of them."""
    quotes = _refusals(listings=listings, stay=stay, guests=guests, now=now)
    ids = [listing.pk for listing in listings if listing.pk not in quotes]
    if not ids:
        return quotes
    days, taken = nights_settings_and_bookings(listing_ids=ids, start=stay.check_in, end=stay.check_out, now=now)
    return _priced_quotes(quotes, listings=listings, stay=stay, guests=guests, days=days, taken=taken)


def stay_quotes_from_nights(
    *,
    listings: list[Listing],
    stay: Stay,
    guests: int,
    now: datetime.datetime,
    days: dict[int, dict[datetime.date, NightSettings]],
    taken: dict[int, dict[datetime.date, str]],
) -> dict[int, Quote]:
    """stay_quotes from the stay's calendar rows and taken nights that the caller has read already ({listing_id:
    {night: ...}}, as nights_settings_and_bookings gives them): the same rules, no query."""
    quotes = _refusals(listings=listings, stay=stay, guests=guests, now=now)
    return _priced_quotes(quotes, listings=listings, stay=stay, guests=guests, days=days, taken=taken)


def _refusals(*, listings: list[Listing], stay: Stay, guests: int, now: datetime.datetime) -> dict[int, Quote]:
    """The quotes of the listings that a rule needing no calendar row refuses."""
    quotes = {}
    local = LocalTime.of(now)
    for listing in listings:
        refusal = _stay_refusal(listing=listing, stay=stay, guests=guests, local=local)
        if refusal:
            quotes[listing.pk] = Quote(stay=stay, guests=guests, reason=refusal.reason, code=refusal.code)
    return quotes


def _priced_quotes(
    quotes: dict[int, Quote],
    *,
    listings: list[Listing],
    stay: Stay,
    guests: int,
    days: dict[int, dict[datetime.date, NightSettings]],
    taken: dict[int, dict[datetime.date, str]],
) -> dict[int, Quote]:
    """`quotes` (the refusals) completed with a priced quote, or the calendar's refusal, for every other listing."""
    for listing in listings:
        if listing.pk not in quotes:
            quotes[listing.pk] = _priced_quote(
                listing=listing,
                stay=stay,
                guests=guests,
                days=days.get(listing.pk, {}),
                taken=taken.get(listing.pk, {}),
            )
    return quotes
