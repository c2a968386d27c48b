"""Booking for a group in a real browser: the guest formset, the error that keeps everything, the countdown,
and the trip showing up for another guest. At 360 px and at desktop width."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.helpers.accounts import DEMO_PASSWORD
from tests.helpers.browser import assert_no_horizontal_scroll, in_viewport
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = re.compile(r"^\s*Password\*?\s*$")


def _sign_in(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label(PASSWORD).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_label("Account menu")).to_be_visible()


def _row(page, index: int):
    return page.locator(f'[data-guest-row="{index}"]')


def _add_guest(page, index: int) -> None:
    """Add a row and wait, as a person would, until its name field has the focus and the browser has rendered
    twice: htmx focuses the field when the swap settles and the browser's own autofocus may follow at the next
    rendering, and typing in another field meanwhile would land in the name field."""
    page.get_by_role("button", name="+ Add guest").click()
    expect(_row(page, index).get_by_label("Full name")).to_be_focused()
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    expect(_row(page, index).get_by_label("Full name")).to_be_focused()


def test_a_guest_books_for_three_and_another_guest_sees_the_trip(live_server, sized_page, browser, make_user):
    page = sized_page
    host = make_user(email="host@example.com", full_name="Hassan Host")
    listing = make_listing(host, title="Diani beach cottage", max_guests=4, cleaning_fee_kes=1_500)
    make_user(email="booker@example.com", full_name="Achieng Odhiambo")
    make_user(email="wanjiru@example.com", full_name="Wanjiru Kamau")
    check_in = timezone.localdate() + datetime.timedelta(days=10)
    check_out = check_in + datetime.timedelta(days=3)

    _sign_in(page, live_server, "booker@example.com")
    page.goto(f"{live_server.url}/listings/{listing.slug}/book/?check_in={check_in}&check_out={check_out}&guests=1")
    expect(_row(page, 0).get_by_label("Full name")).to_have_value("Achieng Odhiambo")
    expect(page.locator("[data-quote-guests]")).to_contain_text("1 guest")
    assert_no_horizontal_scroll(page)

    # Two more rows; type in both; remove the second; add it back.
    _add_guest(page, 1)
    _row(page, 1).get_by_label("Full name").fill("Otieno Ochieng")
    _row(page, 1).get_by_label("E-mail").fill("otieno@example.com")
    _add_guest(page, 2)
    expect(_row(page, 1).get_by_label("Full name")).to_have_value("Otieno Ochieng")
    _row(page, 2).get_by_label("Full name").fill("Wanjiru Kamau")
    _row(page, 2).get_by_label("E-mail").fill("wanjiru@example.com")
    _row(page, 2).get_by_label("Phone").fill("0722 111 222")
    expect(page.locator("[data-quote-guests]")).to_contain_text("3 guests")

    page.get_by_role("button", name="Remove guest 2").click()
    expect(_row(page, 2)).to_have_count(0)
    expect(_row(page, 1).get_by_label("Full name")).to_have_value("Wanjiru Kamau")
    expect(_row(page, 1).get_by_label("Phone")).to_have_value("0722 111 222")
    expect(page.locator("[data-quote-guests]")).to_contain_text("2 guests")

    _add_guest(page, 2)
    _row(page, 2).get_by_label("Full name").fill("Otieno Ochieng")
    _row(page, 2).get_by_label("Age").select_option("child")
    _row(page, 2).get_by_label("E-mail").fill("Wanjiru@example.com")  # a slip: the same person's address
    expect(page.locator("[data-quote-guests]")).to_contain_text("3 guests")
    assert_no_horizontal_scroll(page)

    page.get_by_role("button", name="Hold these dates").click()
    expect(_row(page, 2).get_by_text("Guest 2 already has this e-mail address")).to_be_visible()
    # The refused form opens on its error summary, focused, each problem a link to its field.
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    assert in_viewport(summary)
    summary.get_by_role("link", name="Guest 3: E-mail: Guest 2 already has this e-mail address").click()
    expect(_row(page, 2).get_by_label("E-mail")).to_be_focused()
    expect(_row(page, 0).get_by_label("Full name")).to_have_value("Achieng Odhiambo")
    expect(_row(page, 1).get_by_label("Full name")).to_have_value("Wanjiru Kamau")
    expect(_row(page, 1).get_by_label("E-mail")).to_have_value("wanjiru@example.com")
    expect(_row(page, 1).get_by_label("Phone")).to_have_value("0722 111 222")
    expect(_row(page, 2).get_by_label("Full name")).to_have_value("Otieno Ochieng")
    expect(_row(page, 2).get_by_label("E-mail")).to_have_value("Wanjiru@example.com")
    expect(_row(page, 2).get_by_label("Age")).to_have_value("child")
    assert_no_horizontal_scroll(page)

    _row(page, 2).get_by_label("E-mail").fill("")
    page.get_by_role("button", name="Hold these dates").click()
    expect(page).to_have_url(re.compile(r"/trips/NX-[A-Z0-9]{6}/$"))
    ref = page.locator("[data-ref]").inner_text()
    clock = page.locator("[data-countdown-clock]")
    expect(page.locator("#hold-countdown")).to_contain_text("to keep these dates")
    first = clock.inner_text()
    expect(clock).not_to_have_text(first, timeout=3_000)  # it runs
    assert re.fullmatch(r"1[45]:\d\d", clock.inner_text())
    expect(page.locator("[data-guests]")).to_contain_text("Wanjiru Kamau")
    assert_no_horizontal_scroll(page)

    # Wanjiru has a verified account with the address she was booked with.
    other = browser.new_context(viewport=page.viewport_size)
    try:
        wanjiru = other.new_page()
        _sign_in(wanjiru, live_server, "wanjiru@example.com")
        wanjiru.goto(f"{live_server.url}/trips/")
        expect(wanjiru.locator(f'[data-trip="{ref}"]')).to_contain_text("Diani beach cottage")
        expect(wanjiru.locator(f'[data-trip="{ref}"]')).to_contain_text("You are a guest")
        assert_no_horizontal_scroll(wanjiru)
        wanjiru.locator(f'[data-trip="{ref}"] a').click()
        expect(wanjiru.locator("[data-ref]")).to_have_text(ref)
        expect(wanjiru.locator("#payment-status")).to_have_count(0)
        expect(wanjiru.get_by_role("link", name="Cancel this booking")).to_have_count(0)
    finally:
        other.close()


def test_a_host_filters_bookings_by_place_and_status(live_server, sized_page, make_user):
    from listings.selectors import Stay, stay_quote
    from reservations.services import GuestData, booking_hold

    page = sized_page
    host = make_user(email="host@example.com", full_name="Hassan Host")
    traveller = make_user(email="traveller@example.com", full_name="Baraka Traveller")
    beach = make_listing(host, title="Beach cottage")
    hill = make_listing(host, title="Hill house")
    check_in = timezone.localdate() + datetime.timedelta(days=10)
    refs = {}
    for place in (beach, hill):
        stay = Stay(check_in=check_in, check_out=check_in + datetime.timedelta(days=2))
        quote = stay_quote(listing=place, stay=stay, guests=2, now=timezone.now())
        booking = booking_hold(
            booker=traveller,
            listing_id=place.pk,
            stay=stay,
            guests=[GuestData("Baraka Traveller", "traveller@example.com"), GuestData("Neema Traveller")],
            shown_total_kes=quote.total_kes,
            idempotency_key=place.slug.replace("-", "").ljust(32, "0")[:32],
        )
        refs[place.slug] = booking.ref

    _sign_in(page, live_server, "host@example.com")
    page.goto(f"{live_server.url}/host/bookings/")
    expect(page.locator("[data-booking]")).to_have_count(2)
    assert_no_horizontal_scroll(page)
    page.get_by_label("Place").select_option(hill.slug)
    expect(page.locator("[data-booking]")).to_have_count(1)
    expect(page.locator(f'[data-booking="{refs[hill.slug]}"]')).to_contain_text("Neema Traveller")
    expect(page).to_have_url(re.compile(rf"listing={hill.slug}"))
    page.locator("nav[aria-label=Status]").get_by_role("link", name="Confirmed").click()
    expect(page.get_by_text("No bookings match these filters")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"status=confirmed&listing={hill.slug}"))
    page.locator("nav[aria-label=Status]").get_by_role("link", name="Held").click()
    expect(page.locator("[data-booking]")).to_have_count(1)
    assert_no_horizontal_scroll(page)
