import datetime

import pytest
from django.utils import timezone

from core.clock import NAIROBI
from listings.selectors import Stay, stay_quote
from listings.selectors import nights as selectors_nights
from tests.listings.builders import make_listing, set_night

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
# 09:00 in Nairobi on 1 Dec 2026.
NOW = datetime.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def d(day: int, month: int = 12, year: int = 2026) -> datetime.date:
    return datetime.date(year, month, day)


def stay(check_in: datetime.date, check_out: datetime.date) -> Stay:
    return Stay(check_in=check_in, check_out=check_out)


@pytest.fixture
def listing(user):
    return make_listing(user, nightly_price_kes=10_000, cleaning_fee_kes=1_500, max_guests=4)


def test_a_free_stay_is_priced_night_by_night(listing):
    quote = stay_quote(listing=listing, stay=stay(d(12), d(15)), guests=2, now=NOW)
    assert quote.bookable, quote.reason
    assert [(n.date, n.price_kes) for n in quote.nights] == [(d(12), 10_000), (d(13), 10_000), (d(14), 10_000)]
    assert quote.nights_total_kes == 30_000
    assert quote.discount_kes == 0
    assert quote.cleaning_fee_kes == 1_500
    assert quote.total_kes == 31_500
    assert not quote.pays_in_instalments


def test_a_blocked_night_inside_the_stay_makes_it_unbookable(listing):
    set_night(listing, d(13), blocked=True, note="Family visiting")
    quote = stay_quote(listing=listing, stay=stay(d(12), d(15)), guests=2, now=NOW)
    assert not quote.bookable
    assert quote.reason == "Not available on the night of 13 Dec."
    assert quote.total_kes == 0


def test_several_blocked_nights_are_named(listing):
    for day in (12, 13, 14, 15, 16):
        set_night(listing, d(day), blocked=True)
    quote = stay_quote(listing=listing, stay=stay(d(11), d(18)), guests=2, now=NOW)
    assert quote.reason == "Not available on the nights of 12 Dec, 13 Dec, 14 Dec and 2 more."


def test_a_blocked_check_out_day_is_still_bookable(listing):
    set_night(listing, d(15), blocked=True)
    set_night(listing, d(11), blocked=True)
    quote = stay_quote(listing=listing, stay=stay(d(12), d(15)), guests=2, now=NOW)
    assert quote.bookable, quote.reason
    assert quote.total_kes == 31_500


def test_a_night_with_its_own_price_uses_it(listing):
    set_night(listing, d(13), price_override_kes=14_000)
    set_night(listing, d(15), price_override_kes=99_000)  # the check-out day is not a night of the stay
    quote = stay_quote(listing=listing, stay=stay(d(12), d(15)), guests=2, now=NOW)
    assert [(n.price_kes, n.special_price) for n in quote.nights] == [(10_000, False), (14_000, True), (10_000, False)]
    assert quote.nights_total_kes == 34_000
    assert quote.total_kes == 35_500


def test_weekly_discount_from_seven_nights(user):
    listing = make_listing(user, nightly_price_kes=1_005, weekly_discount_percent=10, monthly_discount_percent=20)
    six = stay_quote(listing=listing, stay=stay(d(10), d(16)), guests=1, now=NOW)
    assert six.discount_kes == 0
    assert six.discount_name == ""
    seven = stay_quote(listing=listing, stay=stay(d(10), d(17)), guests=1, now=NOW)
    # 7 x 1,005 = 7,035; 10% = 703.5, rounded once to 704.
    assert seven.nights_total_kes == 7_035
    assert (seven.discount_name, seven.discount_percent, seven.discount_kes) == ("Weekly discount", 10, 704)
    assert seven.total_kes == 6_331


def test_monthly_discount_from_twenty_eight_nights(user):
    listing = make_listing(
        user, nightly_price_kes=3_333, weekly_discount_percent=10, monthly_discount_percent=15, max_nights=90
    )
    twenty_seven = stay_quote(listing=listing, stay=stay(d(10), d(10) + datetime.timedelta(days=27)), guests=1, now=NOW)
    assert twenty_seven.discount_percent == 10
    quote = stay_quote(listing=listing, stay=stay(d(10), d(10) + datetime.timedelta(days=28)), guests=1, now=NOW)
    # 28 x 3,333 = 93,324; 15% = 13,998.6 -> 13,999.
    assert (quote.discount_name, quote.discount_percent) == ("Monthly discount", 15)
    assert quote.discount_kes == 13_999
    assert quote.total_kes == 93_324 - 13_999


def test_a_long_stay_gets_the_larger_discount(user):
    listing = make_listing(user, weekly_discount_percent=12, monthly_discount_percent=5, max_nights=90)
    quote = stay_quote(listing=listing, stay=stay(d(10), d(10) + datetime.timedelta(days=30)), guests=1, now=NOW)
    assert (quote.discount_name, quote.discount_percent) == ("Weekly discount", 12)


def test_the_discount_applies_to_special_prices_too(user):
    listing = make_listing(user, nightly_price_kes=10_000, weekly_discount_percent=10, cleaning_fee_kes=2_000)
    set_night(listing, d(12), price_override_kes=20_000)
    quote = stay_quote(listing=listing, stay=stay(d(10), d(17)), guests=1, now=NOW)
    assert quote.nights_total_kes == 80_000
    assert quote.discount_kes == 8_000
    assert quote.total_kes == 74_000


def test_minimum_stay_override_on_the_check_in_night_wins(user):
    listing = make_listing(user, min_nights=2)
    set_night(listing, d(12), min_nights_override=3)
    quote = stay_quote(listing=listing, stay=stay(d(12), d(14)), guests=2, now=NOW)
    assert quote.reason == "Minimum stay is 3 nights from 12 Dec."
    assert stay_quote(listing=listing, stay=stay(d(12), d(15)), guests=2, now=NOW).bookable
    # The override belongs to stays that start on the 12th, not to stays that pass through it.
    assert stay_quote(listing=listing, stay=stay(d(11), d(13)), guests=2, now=NOW).bookable


def test_an_override_can_also_shorten_the_minimum(user):
    listing = make_listing(user, min_nights=3)
    set_night(listing, d(20), min_nights_override=1)
    assert stay_quote(listing=listing, stay=stay(d(20), d(21)), guests=2, now=NOW).bookable
    assert stay_quote(listing=listing, stay=stay(d(19), d(21)), guests=2, now=NOW).reason == (
        "Minimum stay is 3 nights from 19 Dec."
    )


def test_maximum_stay(user):
    listing = make_listing(user, max_nights=5)
    assert stay_quote(listing=listing, stay=stay(d(10), d(15)), guests=1, now=NOW).bookable
    assert stay_quote(listing=listing, stay=stay(d(10), d(16)), guests=1, now=NOW).reason == (
        "Maximum stay is 5 nights."
    )


def test_maximum_guests(listing):
    assert stay_quote(listing=listing, stay=stay(d(12), d(14)), guests=4, now=NOW).bookable
    assert stay_quote(listing=listing, stay=stay(d(12), d(14)), guests=5, now=NOW).reason == (
        "This place sleeps at most 4 guests."
    )
    assert stay_quote(listing=listing, stay=stay(d(12), d(14)), guests=0, now=NOW).reason == (
        "Choose at least 1 guest."
    )


@pytest.mark.parametrize("check_out", [d(12), d(11)])
def test_check_out_must_come_after_check_in(listing, check_out):
    quote = stay_quote(listing=listing, stay=stay(d(12), check_out), guests=2, now=NOW)
    assert quote.reason == "Check-out must be after check-in."


def test_an_unpublished_listing_cannot_be_booked(user):
    listing = make_listing(user, is_published=False)
    assert stay_quote(listing=listing, stay=stay(d(12), d(14)), guests=2, now=NOW).reason == (
        "This place is not taking bookings."
    )


# 00:30 on 12 Dec in Nairobi is still 21:30 on 11 Dec in UTC.
AFTER_MIDNIGHT_IN_NAIROBI = datetime.datetime(2026, 12, 11, 21, 30, tzinfo=UTC)


def test_advance_notice_counts_days_in_nairobi_after_midnight(user):
    listing = make_listing(user, advance_notice_days=1)
    refused = stay_quote(listing=listing, stay=stay(d(12), d(14)), guests=2, now=AFTER_MIDNIGHT_IN_NAIROBI)
    assert refused.reason == "The host needs 1 day's notice: the earliest check-in is 13 Dec."
    assert stay_quote(listing=listing, stay=stay(d(13), d(15)), guests=2, now=AFTER_MIDNIGHT_IN_NAIROBI).bookable


def test_after_midnight_in_nairobi_yesterday_is_past_and_today_is_same_day(user):
    listing = make_listing(user, advance_notice_days=0, same_day_cutoff_hour=18)
    past = stay_quote(listing=listing, stay=stay(d(11), d(13)), guests=2, now=AFTER_MIDNIGHT_IN_NAIROBI)
    assert past.reason == "Check-in can't be in the past."
    assert stay_quote(listing=listing, stay=stay(d(12), d(14)), guests=2, now=AFTER_MIDNIGHT_IN_NAIROBI).bookable


def test_several_days_of_notice(user):
    listing = make_listing(user, advance_notice_days=3)
    assert stay_quote(listing=listing, stay=stay(d(3), d(5)), guests=2, now=NOW).reason == (
        "The host needs 3 days' notice: the earliest check-in is 4 Dec."
    )
    assert stay_quote(listing=listing, stay=stay(d(4), d(6)), guests=2, now=NOW).bookable


@pytest.mark.parametrize(
    ("local_time", "bookable"),
    [(datetime.time(17, 59), True), (datetime.time(18, 0), False), (datetime.time(23, 59), False)],
)
def test_same_day_bookings_close_at_the_cut_off_hour(user, local_time, bookable):
    listing = make_listing(user, advance_notice_days=0, same_day_cutoff_hour=18)
    now = datetime.datetime.combine(d(12), local_time, tzinfo=NAIROBI)
    quote = stay_quote(listing=listing, stay=stay(d(12), d(14)), guests=2, now=now)
    assert quote.bookable is bookable
    if not bookable:
        assert quote.reason == "Same-day bookings close at 18:00: the earliest check-in is 13 Dec."


def test_a_total_above_the_m_pesa_limit_is_paid_in_instalments(user):
    listing = make_listing(user, nightly_price_kes=125_000, max_guests=10)
    at_limit = stay_quote(listing=listing, stay=stay(d(12), d(14)), guests=2, now=NOW)
    assert at_limit.total_kes == 250_000
    assert not at_limit.pays_in_instalments
    above = stay_quote(listing=listing, stay=stay(d(12), d(15)), guests=2, now=NOW)
    assert above.pays_in_instalments


def test_nights_held_by_bookings_are_unavailable(listing, monkeypatch):
    from django.db.models import CharField, DateField, Value

    from listings.models import CalendarDay

    # A stand-in for the Reservations issue's rows: one booking of the nights of 10, 11 and 12 Dec.
    carrier = set_night(listing, d(1), note="carrier")

    def taken(*, start, end, now):
        rows = CalendarDay.objects.filter(pk=carrier.pk)
        if not (start < d(13) and end > d(10)):
            rows = rows.none()
        return rows.annotate(
            check_in=Value(d(10), output_field=DateField()),
            check_out=Value(d(13), output_field=DateField()),
            ref=Value("NX-7Q2K", output_field=CharField()),
        ).values("listing_id", "check_in", "check_out", "ref")

    monkeypatch.setattr(selectors_nights, "nights_taken_by_bookings", taken)
    assert stay_quote(listing=listing, stay=stay(d(12), d(14)), guests=2, now=NOW).reason == (
        "Not available on the night of 12 Dec."
    )
    # Back to back: the booking's check-out day is free for the next check-in.
    assert stay_quote(listing=listing, stay=stay(d(13), d(15)), guests=2, now=NOW).bookable
    assert stay_quote(listing=listing, stay=stay(d(7), d(10)), guests=2, now=NOW).bookable


def test_frozen_fields_carry_the_price_and_policy(user):
    listing = make_listing(user, cancellation_policy="strict", cleaning_fee_kes=500)
    quote = stay_quote(listing=listing, stay=stay(d(12), d(14)), guests=3, now=NOW)
    assert quote.frozen_fields() == {
        "guest_count": 3,
        "nights": [{"date": "2026-12-12", "price_kes": 10_000}, {"date": "2026-12-13", "price_kes": 10_000}],
        "nights_total_kes": 20_000,
        "discount_name": "",
        "discount_percent": 0,
        "discount_kes": 0,
        "cleaning_fee_kes": 500,
        "total_kes": 20_500,
        "cancellation_policy": "strict",
    }


@pytest.mark.parametrize("rows", [0, 30])
def test_a_thirty_night_stay_is_checked_in_one_query(user, rows, django_assert_num_queries):
    listing = make_listing(user, max_nights=60)
    first = d(10)
    for i in range(rows):
        set_night(listing, first + datetime.timedelta(days=i), price_override_kes=11_000 + i)
    with django_assert_num_queries(1):
        quote = stay_quote(listing=listing, stay=stay(first, first + datetime.timedelta(days=30)), guests=2, now=NOW)
    assert quote.bookable
    assert len(quote.nights) == 30


def test_a_stay_refused_before_the_calendar_costs_no_query(user, django_assert_num_queries):
    listing = make_listing(user, max_nights=30)
    with django_assert_num_queries(0):
        quote = stay_quote(listing=listing, stay=stay(d(1), d(1, year=2030)), guests=2, now=NOW)
    assert quote.reason == "Maximum stay is 30 nights."


def test_a_quotes_day_labels_read_as_the_date_filter_writes_them():
    from django.utils.formats import date_format

    from listings.selectors.quote import Night

    first = datetime.date(timezone.localdate().year + 1, 1, 1)  # a whole year, leap or not, from today's
    for offset in range(366):
        day = first + datetime.timedelta(days=offset)
        assert Night(date=day, price_kes=1).label == date_format(day, "D j M")
        stay = Stay(check_in=day, check_out=day + datetime.timedelta(days=3))
        assert (stay.check_in_label, stay.check_out_label) == (
            date_format(day, "j M"),
            date_format(stay.check_out, "j M"),
        )
