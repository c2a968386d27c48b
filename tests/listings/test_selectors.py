import datetime
import itertools
import random

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from listings.models import Listing, ListingPhoto
from listings.selectors import (
    SearchQuery,
    Stay,
    availability_month,
    availability_month_and_quote,
    listing_get_for_viewer,
    listing_ids_matching,
    listing_search,
    property_page,
    stay_quote,
)
from listings.selectors.listing import LISTING_ROW_COLUMNS
from tests.helpers.models import as_made
from tests.listings.builders import make_listing, set_night

pytestmark = pytest.mark.django_db

NAIROBI = datetime.timezone(datetime.timedelta(hours=3))
# 10:00 on 1 Dec 2026 in Nairobi.
NOW = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=NAIROBI)
HX = {"HX-Request": "true"}


def d(day: int, month: int = 12) -> datetime.date:
    return datetime.date(2026, month, day)


@pytest.fixture
def host(make_user):
    return make_user(email="host@example.com", full_name="Juma Hamisi")


def test_search_agrees_with_the_quote_for_every_stay(host):
    """The search's SQL mirrors the quote's rules: the same listings come out for a grid of stays and clocks."""
    rng = random.Random(4)
    listings = []
    for i in range(14):
        listing = make_listing(
            host,
            title=f"Place {i}",
            max_guests=rng.choice([1, 2, 4, 6]),
            min_nights=rng.choice([1, 1, 2, 3]),
            max_nights=rng.choice([3, 7, 30]),
            advance_notice_days=rng.choice([0, 0, 1, 3]),
            same_day_cutoff_hour=rng.choice([0, 12, 18, 23]),
            is_published=i != 13,
        )
        for _ in range(6):
            set_night(
                listing,
                d(rng.randint(1, 20)),
                blocked=rng.random() < 0.5,
                min_nights_override=rng.choice([None, None, 1, 4]),
                price_override_kes=rng.choice([None, 12_000]),
            )
        listings.append(listing)
    clocks = [NOW, datetime.datetime(2026, 12, 1, 19, 0, tzinfo=NAIROBI), datetime.datetime(2026, 11, 30, 22, 30)]
    checked = bookable = 0
    for now in clocks:
        now = now if now.tzinfo else now.replace(tzinfo=datetime.UTC)  # 01:30 on 1 Dec in Nairobi
        for check_in in range(1, 12):
            for nights in (1, 2, 3, 5, 8):
                for guests in (1, 3):
                    stay = Stay(check_in=d(check_in), check_out=d(check_in) + datetime.timedelta(days=nights))
                    found = set(listing_ids_matching(query=SearchQuery(stay=stay, guests=guests), now=now))
                    expected = {
                        lst.pk
                        for lst in listings
                        if stay_quote(listing=lst, stay=stay, guests=guests, now=now).bookable
                    }
                    assert found == expected, (now, stay, guests)
                    checked += 1
                    bookable += len(expected)
    assert checked == 330
    assert bookable > 100  # the grid exercises both outcomes


def _booking(listing, guest, check_in, check_out, status, blocks_until=None):
    """A booking written directly, then the nights bookings keep for good rebuilt, as for rows made before them."""
    from reservations.models import Booking
    from reservations.services import booked_nights_fill

    booking = Booking.objects.create(
        listing=listing,
        booker=guest,
        check_in=check_in,
        check_out=check_out,
        guest_count=1,
        status=status,
        blocks_until=blocks_until,
        idempotency_key=f"{listing.pk}-{check_in}-{status}",
        nights_total_kes=1,
        total_kes=1,
        cancellation_policy="flexible",
        check_in_at=NOW,
    )
    booked_nights_fill()
    return booking


def _set_random_nights(listing, rng: random.Random, days: range) -> None:
    """The host's settings on the nights `days` after 1 Dec: some blocked, some with a minimum stay or a price."""
    for day in days:
        set_night(
            listing,
            d(1) + datetime.timedelta(days=day),
            blocked=rng.random() < 0.3,
            min_nights_override=rng.choice([None, 3]),
            price_override_kes=rng.choice([None, 12_500]),
        )


@time_machine.travel(NOW, tick=False)
def test_the_property_pages_one_read_agrees_with_the_month_and_the_quote(host, make_user):
    """The month and the quote read together give what availability_month and stay_quote give apart, for stays in,
    across and far from the month shown, with blocks, prices, minimum stays and bookings that hold nights; the
    property page's statement, which reads the photos and amenities with them, gives the same."""
    guest = make_user(email="guest@example.com")
    listing = make_listing(
        host,
        min_nights=2,
        max_nights=60,
        weekly_discount_percent=10,
        cleaning_fee_kes=1_000,
        amenities=["sea_view", "wifi", "pool"],
    )
    # The photos in the host's order (then as added), whatever order they were added in; the amenities in the
    # catalogue's order, whatever order the host chose them in: the same statement reads them.
    for order, caption in ((2, "Pool"), (0, "Front"), (1, "Kitchen"), (1, "Bedroom")):
        _photo(listing, order, caption)
    captions = ["Front", "Kitchen", "Bedroom", "Pool"]
    amenities = ["Wi-Fi", "Pool", "Sea view"]
    _set_random_nights(listing, random.Random(21), range(2, 75, 3))
    _booking(listing, guest, d(20), d(23), "confirmed")
    _booking(
        listing, guest, datetime.date(2027, 1, 8), datetime.date(2027, 1, 11), "held", NOW + datetime.timedelta(hours=1)
    )
    _booking(
        listing,
        guest,
        datetime.date(2027, 1, 14),
        datetime.date(2027, 1, 16),
        "held",
        NOW - datetime.timedelta(hours=1),
    )
    checked = bookable = 0
    for month in (d(1), datetime.date(2027, 1, 1), datetime.date(2027, 6, 1)):
        for check_in in range(0, 70, 4):
            for nights in (1, 2, 5, 9, 40):
                stay = Stay(
                    check_in=d(1) + datetime.timedelta(days=check_in),
                    check_out=d(1) + datetime.timedelta(days=check_in + nights),
                )
                month_view, quote = availability_month_and_quote(
                    listing=listing, month=month, now=NOW, stay=stay, guests=2, quote=True
                )
                assert month_view == availability_month(listing=listing, month=month, now=NOW, stay=stay)
                assert quote == stay_quote(listing=listing, stay=stay, guests=2, now=NOW), (month, stay)
                page = property_page(slug=listing.slug, user=None, month=month, now=NOW, stay=stay, guests=2)
                assert (page.month, page.quote) == (month_view, quote), (month, stay)
                assert page.listing == listing
                assert [photo.caption for photo in page.photos] == captions
                assert page.amenities == amenities
                checked += 1
                bookable += quote.bookable
        page = property_page(slug=listing.slug, user=None, month=month, now=NOW, stay=None, guests=1)
        assert page[1:5] == (availability_month(listing=listing, month=month, now=NOW), None, page.photos, amenities)
        assert [photo.caption for photo in page.photos] == captions
    assert checked == 270
    assert 20 < bookable < 250  # the grid exercises both outcomes


@time_machine.travel(NOW, tick=False)
def test_the_property_pages_statement_shows_the_listing_to_whom_listing_get_for_viewer_shows_it(host, make_user):
    """The property page's one statement reads the listing with its host as listing_get_for_viewer does, to the same
    people: a published listing to everyone, an unpublished one to its host only (a 404 for anyone else)."""
    stranger = make_user(email="stranger@example.com")
    published = make_listing(host, title="Published")
    draft = make_listing(host, title="Draft", is_published=False)
    _photo(published, 0, "Front")
    for listing, viewer in itertools.product((published, draft), (None, AnonymousUser(), stranger, host)):
        try:
            expected = listing_get_for_viewer(slug=listing.slug, user=viewer)
        except Http404:
            expected = None
        try:
            page = property_page(slug=listing.slug, user=viewer, month=d(1), now=NOW, stay=None, guests=1)
        except Http404:
            page = None
        if expected is None:
            assert page is None, (listing.title, viewer)
            continue
        # As select_related("host") makes it, with what the public page does not show left to be read on use.
        public = Listing.objects.select_related("host").only(*LISTING_ROW_COLUMNS).get(pk=expected.pk)
        assert as_made(page.listing) == as_made(public), (listing.title, viewer)
        assert page.listing.get_deferred_fields() == {
            "created_at",
            "updated_at",
            "street_address",
            "directions",
            "check_in_instructions",
            "host_phone",
        }
        assert "password" in page.listing.host.get_deferred_fields()
        assert page.listing.host.full_name == host.full_name
        assert len(page.photos) == (listing == published)
    shown_the_draft = []
    for viewer in (None, AnonymousUser(), stranger, host):
        try:
            property_page(slug=draft.slug, user=viewer, month=d(1), now=NOW, stay=None, guests=1)
            shown_the_draft.append(viewer)
        except Http404:
            pass
    assert shown_the_draft == [host]
    with pytest.raises(Http404):
        property_page(slug="no-such-place", user=host, month=d(1), now=NOW, stay=None, guests=1)


@pytest.mark.postgres
@time_machine.travel(NOW, tick=False)
def test_the_property_pages_one_row_on_postgresql_reads_what_the_union_reads(host, make_user):
    """On PostgreSQL the property page reads its listing, nights and gallery as one row of arrays; elsewhere as a
    UNION ALL of rows. Both give the same rows for every viewer, listing, range of nights and clock: holds that lapse
    between two clocks, a confirmed stay, a cancelled booking, a block and prices across the ranges, photos and
    amenities, a listing with none of them, a draft and a place that does not exist."""
    from listings.selectors.calendars import _property_page_row, _property_page_rows

    guest, stranger = make_user(email="guest@example.com"), make_user(email="stranger@example.com")
    full = make_listing(host, title="Full", amenities=["sea_view", "wifi", "pool"])
    for order, caption in ((2, "Pool"), (0, "Front"), (1, "Kitchen")):
        _photo(full, order, caption)
    _set_random_nights(full, random.Random(8), range(0, 70, 2))
    _booking(full, guest, d(5), d(9), "confirmed")
    _booking(full, guest, d(12), d(15), "held", NOW + datetime.timedelta(hours=1))
    _booking(full, guest, d(18), d(20), "awaiting_payment", NOW + datetime.timedelta(minutes=20))
    _booking(full, guest, d(24), datetime.date(2027, 1, 3), "held", NOW - datetime.timedelta(minutes=5))
    _booking(full, guest, d(26), d(28), "cancelled")
    bare = make_listing(host, title="Bare")
    draft = make_listing(host, title="Draft", is_published=False)
    _photo(draft, 0, "Front")
    read = 0
    for slug, viewer in itertools.product((full.slug, bare.slug, draft.slug, "no-such-place"), (None, stranger, host)):
        for start, end in ((d(1), datetime.date(2027, 1, 1)), (d(10), d(25)), (d(29), datetime.date(2027, 2, 5))):
            for now in (NOW, NOW + datetime.timedelta(minutes=30), NOW + datetime.timedelta(hours=2)):
                values = {"slug": slug, "user_id": viewer and viewer.pk, "start": start, "end": end, "now": now}
                listing_row, nights, gallery = _property_page_row(**values)
                union_listing_row, union_nights, union_gallery = _property_page_rows(**values)
                assert listing_row == union_listing_row, values
                assert sorted(nights) == sorted(union_nights), values
                assert sorted(gallery) == sorted(union_gallery), values
                read += listing_row is not None
    # Read: the two published listings by all three viewers and the draft by its host, at every range and clock.
    assert read == 7 * 3 * 3


@pytest.mark.parametrize("nights", [3, 10], ids=["short stay", "long stay"])
def test_search_excludes_nights_that_bookings_hold(host, make_user, nights):
    guest = make_user(email="guest@example.com")
    confirmed = make_listing(host, title="Confirmed", max_nights=30)
    held = make_listing(host, title="Held", max_nights=30)
    lapsed = make_listing(host, title="Lapsed hold", max_nights=30)
    cancelled = make_listing(host, title="Cancelled", max_nights=30)
    free = make_listing(host, title="Free", max_nights=30)
    _booking(confirmed, guest, d(20), d(23), "confirmed")
    _booking(held, guest, d(22), d(24), "held", blocks_until=NOW + datetime.timedelta(minutes=5))
    _booking(lapsed, guest, d(20), d(23), "held", blocks_until=NOW - datetime.timedelta(minutes=1))
    _booking(cancelled, guest, d(20), d(23), "cancelled")

    def titles(check_in: datetime.date) -> list[str]:
        stay = Stay(check_in=check_in, check_out=check_in + datetime.timedelta(days=nights))
        by_id = {lst.pk: lst.title for lst in (confirmed, held, lapsed, cancelled, free)}
        found = sorted(by_id[pk] for pk in listing_ids_matching(query=SearchQuery(stay=stay), now=NOW))
        expected = sorted(
            lst.title
            for lst in (confirmed, held, lapsed, cancelled)
            if stay_quote(listing=lst, stay=stay, guests=1, now=NOW).bookable
        )
        assert found == sorted([*expected, "Free"])  # search and the quote agree
        return found

    # The stay's last night is the 22nd: the confirmed booking and the live hold take it.
    assert titles(d(22) - datetime.timedelta(days=nights - 1)) == ["Cancelled", "Free", "Lapsed hold"]
    # Starting on the confirmed booking's check-out day: only the live hold (22-24 Dec) is in the way.
    assert titles(d(23)) == ["Cancelled", "Confirmed", "Free", "Lapsed hold"]
    # After every booking.
    assert titles(d(24)) == ["Cancelled", "Confirmed", "Free", "Held", "Lapsed hold"]


def test_search_cards_carry_each_listings_quote(host):
    make_listing(host, title="A", nightly_price_kes=5_000, cleaning_fee_kes=500)
    make_listing(host, title="B", nightly_price_kes=7_000)
    stay = Stay(check_in=d(10), check_out=d(12))
    results = listing_search(query=SearchQuery(stay=stay, sort="price"), page_number=1, now=NOW)
    assert [(c.listing.title, c.quote.total_kes) for c in results.cards] == [("A", 10_500), ("B", 14_000)]


def test_a_card_comes_once_with_its_cover_and_every_night_its_host_priced_in_the_stay(host):
    """The page's listings, their covers and what their hosts set for the stay's nights come in one statement: a
    listing with several nights set in the stay is still one card, priced night by night."""
    special = make_listing(host, title="Special", nightly_price_kes=5_000)
    make_listing(host, title="Plain", nightly_price_kes=9_000)
    for n in (1, 0):
        _photo(special, n)
    set_night(special, d(10), price_override_kes=6_000)
    set_night(special, d(11), price_override_kes=7_000, note="Festival")
    set_night(special, d(13), price_override_kes=50_000)  # the check-out day: not a night of the stay
    stay = Stay(check_in=d(10), check_out=d(13))
    cards = listing_search(query=SearchQuery(stay=stay, sort="price"), page_number=1, now=NOW).cards
    assert [(c.listing.title, c.quote.total_kes) for c in cards] == [("Special", 18_000), ("Plain", 27_000)]
    assert [night.price_kes for night in cards[0].quote.nights] == [6_000, 7_000, 5_000]
    assert f"t{special.pk}-0" in cards[0].cover_url and cards[0].cover is not None  # the first photo
    assert cards[1].cover is None and cards[1].cover_url == ""


def test_month_marks_blocked_past_and_priced_nights(host):
    listing = make_listing(host, nightly_price_kes=9_000)
    set_night(listing, d(5), blocked=True)
    set_night(listing, d(6), price_override_kes=15_000)
    month = availability_month(listing=listing, month=d(1), now=datetime.datetime(2026, 12, 3, 20, 0, tzinfo=NAIROBI))
    nights = {n.date: n for week in month.weeks for n in week if n.in_month}
    assert len(nights) == 31
    assert not nights[d(2)].available and nights[d(2)].too_soon
    assert not nights[d(3)].available  # after the 18:00 same-day cut-off
    assert nights[d(4)].available
    assert not nights[d(5)].available and not nights[d(5)].too_soon
    assert (nights[d(6)].price_kes, nights[d(6)].price_short, nights[d(6)].price_text) == (15_000, "15k", "KES 15,000")
    assert (nights[d(7)].price_kes, nights[d(7)].price_short, nights[d(7)].price_text) == (9_000, "9k", "KES 9,000")
    assert {(n.price_short, n.price_text) for n in nights.values() if n.date != d(6)} == {("9k", "KES 9,000")}
    assert month.previous_month is None
    assert month.next_month == datetime.date(2027, 1, 1)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("language", ["en", "fr", "sw"])
def test_month_names_each_day_as_djangos_date_filter_in_the_language_shown(host, language):
    """A cell's name and weekday are worked out once per month and language (listings/selectors/calendars.py): each
    language still gets its own, as Django's `date` filter writes them."""
    from django.utils import translation
    from django.utils.dateformat import format as date_format

    listing = make_listing(host)
    for month_start in (d(1), datetime.date(2027, 2, 1)):
        with translation.override(language):
            for _ in range(2):
                month = availability_month(listing=listing, month=month_start, now=NOW)
                for night in (n for week in month.weeks for n in week if n.in_month):
                    assert night.iso == night.date.isoformat()
                    assert night.name == date_format(night.date, "j F, l")
                    assert night.weekday_short == date_format(night.date, "D")


def test_month_shows_nights_held_by_bookings_as_unavailable(host, monkeypatch):
    from django.db.models import CharField, DateField, Value

    from listings.models import CalendarDay
    from listings.selectors import nights as selectors_nights

    listing = make_listing(host)
    carrier = set_night(listing, d(1), note="carrier")

    def taken(*, start, end, now):
        # A stand-in for the Reservations issue's rows: one booking of the nights of 10 and 11 Dec.
        return (
            CalendarDay.objects.filter(pk=carrier.pk)
            .annotate(
                check_in=Value(d(10), output_field=DateField()),
                check_out=Value(d(12), output_field=DateField()),
                ref=Value("NX-4KQ7", output_field=CharField()),
            )
            .values("listing_id", "check_in", "check_out", "ref")
        )

    monkeypatch.setattr(selectors_nights, "nights_taken_by_bookings", taken)
    month = availability_month(listing=listing, month=d(1), now=NOW)
    nights = {n.date: n.available for week in month.weeks for n in week if n.in_month}
    assert (nights[d(9)], nights[d(10)], nights[d(11)], nights[d(12)]) == (True, False, False, True)


# --- the same number of queries whatever the size ---------------------------------------------------------------


def _photo(listing, n, caption=""):
    photo = ListingPhoto(listing=listing, order=n, caption=caption)
    photo.image.save(f"p{listing.pk}-{n}.jpg", ContentFile(b"x"), save=False)
    photo.thumbnail.save(f"t{listing.pk}-{n}.jpg", ContentFile(b"x"), save=False)
    photo.save()


def _populate(host, size: int):
    """`size` listings in Diani, the first with `size` photos, amenities and `size` calendar rows."""
    listings = [
        make_listing(host, title=f"Place {i}", amenities=["wifi", "pool", "kitchen"], max_nights=90)
        for i in range(size)
    ]
    first = listings[0]
    for n in range(size):
        _photo(first, n)
        set_night(first, d(1) + datetime.timedelta(days=5 + n), price_override_kes=11_000 + n)
    for listing in listings[1:]:
        _photo(listing, 0)
        set_night(listing, d(28), blocked=True)
    return first


def _count_queries(client, url, params=None, headers=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {}, headers=headers or {})
    assert response.status_code == 200, response.content[:500]
    return len(queries)


PAGES = {
    "home": lambda first: ("/", {}, {}),
    "search": lambda first: (reverse("listings:search"), {"where": "diani", "guests": 2}, {}),
    "search with dates": lambda first: (
        reverse("listings:search"),
        {"where": "diani", "check_in": "2026-12-06", "check_out": "2026-12-09", "guests": 2, "amenities": "wifi"},
        {},
    ),
    "search fragment": lambda first: (
        reverse("listings:search"),
        {"where": "kwale", "check_in": "2026-12-06", "check_out": "2026-12-09", "sort": "newest"},
        HX,
    ),
    "property page": lambda first: (first.get_absolute_url(), {}, {}),
    "property page with a stay": lambda first: (
        first.get_absolute_url(),
        {"check_in": "2026-12-06", "check_out": "2027-01-05", "guests": 2},
        {},
    ),
    "calendar fragment": lambda first: (first.get_absolute_url(), {"month": "2027-01"}, HX),
    "quote fragment": lambda first: (
        reverse("listings:listing-quote", args=[first.slug]),
        {"check_in": "2026-12-06", "check_out": "2027-01-05", "guests": 2},
        HX,
    ),
}
EXPECTED_QUERIES = {
    "home": 1,
    "search": 2,  # the matching ids, the page with its cover photos
    "search with dates": 2,  # the matching ids, the page with its cover photos and its calendar rows for the stay
    "search fragment": 2,
    "property page": 1,  # the listing with its host, its month, photos and amenities
    "property page with a stay": 1,  # the same statement also reads the stay's nights
    "calendar fragment": 2,  # listing, month
    "quote fragment": 2,  # listing, the stay's calendar rows
}


@pytest.mark.parametrize("page", list(PAGES))
def test_pages_issue_the_same_queries_for_3_and_40_listings_photos_and_nights(page, host, make_user, client):
    other_host = make_user(email="other-host@example.com")
    with time_machine.travel(NOW, tick=False):
        small = _populate(other_host, 3)
        small_counts = _count_queries(client, *PAGES[page](small))
        small.host.listings.all().delete()
        large = _populate(host, 40)
        large_counts = _count_queries(client, *PAGES[page](large))
    assert small_counts == large_counts == EXPECTED_QUERIES[page]


def test_a_signed_in_guest_adds_only_the_session_user_and_account_menu_queries(host, make_user, client):
    with time_machine.travel(NOW, tick=False):
        first = _populate(host, 5)
        client.force_login(make_user(email="guest@example.com"))
        url, params, headers = PAGES["search with dates"](first)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, params, headers=headers).status_code == 200
        sql = [q["sql"][:120] for q in queries.captured_queries]
        assert len(sql) == EXPECTED_QUERIES["search with dates"] + 3, sql


@pytest.mark.postgres
def test_place_names_have_trigram_indexes_on_postgresql(host):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'listings_listing'")
        indexes = dict(cursor.fetchall())
    assert "gin_trgm_ops" in indexes["listing_town_upper_trgm"]
    assert "upper((town)::text)" in indexes["listing_town_upper_trgm"]
    assert "upper((title)::text)" in indexes["listing_title_upper_trgm"]


@pytest.mark.postgres
def test_search_reads_overlapping_holds_from_one_covering_range_index_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'reservations_booking'")
        indexes = dict(cursor.fetchall())
    stays = indexes["booking_holds_stays"]
    assert "USING gist (daterange(check_in, check_out, '[)'::text))" in stays
    assert "INCLUDE (listing_id, blocks_until, check_in, check_out)" in stays
    assert "(status)::text = ANY" in stays and "blocks_until IS NOT NULL" in stays
    assert "booking_blocking_stays" not in indexes  # what blocks with no deadline is read from BookedNight
