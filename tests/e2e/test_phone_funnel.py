"""The booking funnel on a phone (360 px): the next step is always on screen. The property page's bottom bar
follows the quote ("Pick dates", then "Reserve" with the stay's total); the booking page keeps the total and its
submit button in view; on a wide screen the side card is as it was."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.helpers.browser import DESKTOP, PHONE, in_viewport, signed_in
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db(transaction=True)


def _stay(days_ahead=12, nights=3):
    check_in = timezone.localdate() + datetime.timedelta(days=days_ahead)
    return check_in, check_in + datetime.timedelta(days=nights)


def test_the_phone_bar_goes_from_pick_dates_to_reserve_with_the_total(live_server, page, make_user):
    page.set_viewport_size(PHONE)
    listing = make_listing(make_user(email="host@example.com"), title="Diani beach cottage", cleaning_fee_kes=1_500)
    check_in, check_out = _stay(days_ahead=3, nights=2)
    page.goto(f"{live_server.url}{listing.get_absolute_url()}?month={check_in:%Y-%m}")

    bar = page.locator("#stay-bar")
    action = bar.locator("[data-bar-action]")
    expect(action).to_have_text("Pick dates")
    expect(bar).to_contain_text("KES 10,000 a night")
    assert in_viewport(action)

    action.click()
    calendar = page.locator("#availability-calendar")
    calendar.locator(f'[data-day="{check_in}"]').click()
    expect(bar).to_contain_text("Now pick your check-out day.")
    if not calendar.locator(f'[data-day="{check_out}"]').count():
        page.get_by_role("link", name="Next month").click()
    calendar.locator(f'[data-day="{check_out}"]').click()
    expect(action).to_have_text("Reserve")
    expect(bar.locator("[data-bar-total]")).to_have_text("KES 21,500")
    assert in_viewport(action)
    action.click()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/listings/" + listing.slug + "/book/"))


def test_the_bar_is_hidden_on_a_wide_screen_where_the_side_card_stays(live_server, page, make_user):
    page.set_viewport_size(DESKTOP)
    listing = make_listing(make_user(email="host@example.com"))
    page.goto(f"{live_server.url}{listing.get_absolute_url()}")
    expect(page.locator("#stay-bar")).to_be_hidden()
    expect(page.get_by_role("button", name="Check price")).to_be_visible()


def test_the_booking_pages_total_and_button_stay_on_screen_inside_the_form(live_server, page, make_user):
    page.set_viewport_size(PHONE)
    guest = make_user(email="achieng@example.com", full_name="Achieng Odhiambo")
    listing = make_listing(make_user(email="host@example.com"), title="Diani beach cottage", cleaning_fee_kes=1_500)
    check_in, check_out = _stay()
    signed_in(page.context, live_server, guest)
    page.goto(f"{live_server.url}/listings/{listing.slug}/book/?check_in={check_in}&check_out={check_out}&guests=3")

    hold = page.get_by_role("button", name="Hold these dates")
    assert in_viewport(hold)
    assert hold.evaluate("button => button.form && button.form.id") == "booking-form"
    bar = page.locator("[data-booking-bar]")
    expect(bar).to_contain_text("KES 31,500")
    expect(bar).to_contain_text("3 guests, 3 nights")
    page.locator('[data-guest-row="2"]').get_by_label("Full name").scroll_into_view_if_needed()
    assert in_viewport(hold)
    expect(page.locator('[data-guest-row="1"]')).to_contain_text("to share the trip with them")
    expect(page.locator('[data-guest-row="1"]')).to_contain_text("your host sees it")


def test_a_refused_htmx_form_focuses_its_error_summary(live_server, page, make_user):
    page.set_viewport_size(PHONE)
    host = make_user(email="host@example.com")
    listing = make_listing(host)
    signed_in(page.context, live_server, host)
    page.goto(f"{live_server.url}/host/listings/{listing.slug}/calendar/")
    calendar = page.locator("#host-calendar")
    calendar.locator("[data-night]:not([disabled])").last.click()
    calendar.get_by_role("button", name="Set price").click()
    summary = calendar.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name="Price per night (KES): Enter the price for these nights.").click()
    expect(calendar.get_by_label("Price per night (KES)")).to_be_focused()
