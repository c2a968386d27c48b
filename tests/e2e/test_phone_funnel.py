"""The booking funnel on a phone (360 px): the next step is always on screen. The property page's bottom bar
follows the quote ("Pick dates", then "Reserve" with the stay's total); the booking page keeps the total and its
submit button in view; on a wide screen the side card is as it was."""

import datetime
import os
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.helpers.browser import DESKTOP, PHONE, in_viewport, signed_in, tappable_on_screen
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


def _summary_line(check_in, check_out, guests):
    dates = (
        f"{check_in:%-d}–{check_out:%-d %b}"
        if check_in.month == check_out.month
        else f"{check_in:%-d %b} – {check_out:%-d %b}"
    )
    return f"Diani · {dates} · {guests} guests"


def test_search_results_on_a_phone_fold_the_form_into_one_line_that_opens_it_again(live_server, page, make_user):
    page.set_viewport_size(PHONE)
    host = make_user(email="host@example.com")
    make_listing(host, title="Baobab Beach Cottage", max_guests=4)
    make_listing(host, title="Galu Kinondo Villa", max_guests=8, nightly_price_kes=30_000)
    check_in, check_out = _stay(days_ahead=15, nights=3)
    page.goto(f"{live_server.url}/listings/?where=Diani&check_in={check_in}&check_out={check_out}&guests=2")

    edit = page.locator("#search-edit > summary")
    expect(edit).to_have_text(re.compile(re.escape(_summary_line(check_in, check_out, 2)) + r"\s*Edit search"))
    expect(edit).to_have_accessible_name(re.compile(re.escape(_summary_line(check_in, check_out, 2)) + " Edit search"))
    expect(page.get_by_label("Guests", exact=True)).to_be_hidden()
    first_title = page.locator("#search-results h3").first
    expect(first_title).to_have_text("Baobab Beach Cottage")
    assert in_viewport(first_title), "the first result's title is below the fold"

    # By keyboard: the summary shows its focus ring and opens the whole form, which searches again.
    edit.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") == "solid"
    guests = page.get_by_label("Guests", exact=True)
    expect(guests).to_be_visible()
    expect(edit).to_have_accessible_name(re.compile(r"guests Hide search$"))  # says what it does now
    guests.fill("6")
    page.locator("#search-form").get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"guests=6"))
    expect(edit).to_have_text(re.compile(re.escape(_summary_line(check_in, check_out, 6))))
    expect(page.locator("#search-results h3")).to_have_text(["Galu Kinondo Villa"])
    expect(guests).to_be_hidden()  # folded again: the new first result is on screen
    expect(edit).to_be_focused()
    assert in_viewport(page.locator("#search-results h3").first)


def test_without_javascript_the_folded_search_opens_and_sends_as_a_plain_form(live_server, browser, make_user):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    make_listing(make_user(email="host@example.com"), title="Baobab Beach Cottage", max_guests=4)
    check_in, check_out = _stay(days_ahead=15, nights=3)
    page.goto(f"{live_server.url}/listings/?where=Diani&check_in={check_in}&check_out={check_out}&guests=2")
    page.locator("#search-edit > summary").click()
    page.get_by_label("Guests", exact=True).fill("3")
    page.locator("#search-form").get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"guests=3"))
    expect(page.locator("#search-edit > summary")).to_contain_text(_summary_line(check_in, check_out, 3))
    expect(page.get_by_label("Guests", exact=True)).to_be_hidden()
    assert in_viewport(page.locator("#search-results h3").first)
    context.close()


def test_a_wide_screen_shows_the_search_form_and_not_the_summary_line(live_server, page, make_user):
    page.set_viewport_size(DESKTOP)
    make_listing(make_user(email="host@example.com"), title="Baobab Beach Cottage")
    page.goto(f"{live_server.url}/listings/?where=Diani&guests=2")
    expect(page.locator("#search-edit > summary")).to_be_hidden()
    expect(page.get_by_label("Guests", exact=True)).to_be_visible()
    expect(page.get_by_label("Guests", exact=True)).to_have_value("2")
    page.get_by_label("Guests", exact=True).fill("3")
    page.locator("#search-form").get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"guests=3"))
    expect(page.get_by_label("Guests", exact=True)).to_be_visible()  # nothing folds on a wide screen


def _next_month() -> datetime.date:
    """Next month, where every night can be chosen whatever today's date."""
    return (timezone.localdate().replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def _box(locator) -> dict:
    return locator.evaluate(
        """element => { const box = element.getBoundingClientRect();
            return {top: box.top, bottom: box.bottom, height: box.height, inner: window.innerHeight,
                    scrolls: element.scrollHeight > element.clientHeight,
                    overflow: getComputedStyle(element).overflowY}; }"""
    )


def test_the_host_calendar_sheet_on_a_phone_is_compact_and_keeps_the_chosen_nights_in_sight(
    live_server, page, make_user
):
    page.set_viewport_size(PHONE)
    host = make_user(email="host@example.com")
    listing = make_listing(host)
    signed_in(page.context, live_server, host)
    page.goto(f"{live_server.url}/host/listings/{listing.slug}/calendar/?month={_next_month():%Y-%m}")
    calendar = page.locator("#host-calendar")
    nights = calendar.locator("[data-night]:not([disabled])")
    # The month's last two nights: the bottom row of the grid, where a tall sheet would cover them.
    nights.nth(nights.count() - 2).click()
    nights.last.click()
    expect(calendar).to_have_attribute("data-selection", "yes")
    expect(calendar.locator("[data-selection-summary]")).to_contain_text("2 nights chosen")

    sheet = _box(calendar.locator("[data-calendar-actions]"))
    assert sheet["height"] <= 0.4 * sheet["inner"] + 1, f"the sheet takes {sheet['height']} of {sheet['inner']} px"
    assert sheet["overflow"] == "auto" and sheet["scrolls"]  # the rest of the actions scroll inside the sheet
    for night in (nights.nth(nights.count() - 2), nights.last):
        box = _box(night)
        assert 0 <= box["top"] and box["bottom"] <= sheet["top"], f"a chosen night is under the sheet: {box}, {sheet}"
    assert tappable_on_screen(calendar.get_by_role("button", name="Block", exact=True))
    clear = calendar.get_by_role("button", name="Clear")
    assert in_viewport(clear)

    # Scrolled to its end inside, the sheet keeps its heading and "Clear" in sight; "Clear" dismisses it.
    calendar.locator("[data-calendar-actions]").evaluate("sheet => { sheet.scrollTop = sheet.scrollHeight; }")
    expect(calendar.get_by_role("button", name="Use default minimum")).to_be_visible()
    assert in_viewport(clear) and in_viewport(calendar.locator("[data-selection-summary]"))
    clear.click()
    expect(calendar).to_have_attribute("data-selection", "no")
    expect(nights.last).to_have_attribute("aria-pressed", "false")
    assert calendar.locator("[data-calendar-actions]").evaluate("e => getComputedStyle(e).position") == "static"


_PRICE_TEXT = """price => {
    const range = document.createRange();
    range.selectNodeContents(price);
    const lines = new Set([...range.getClientRects()].map(box => Math.round(box.top))).size;
    const text = range.getBoundingClientRect();
    const day = price.closest("[data-night-cell], td").getBoundingClientRect();
    return {text: price.textContent.trim(), size: parseFloat(getComputedStyle(price).fontSize), lines,
            inside: text.left >= day.left - 0.5 && text.right <= day.right + 0.5,
            sideways: document.documentElement.scrollWidth - document.documentElement.clientWidth};
}"""


_ONE_LINE = """element => { const range = document.createRange(); range.selectNodeContents(element);
    return new Set([...range.getClientRects()].map(box => Math.round(box.top))).size === 1; }"""


def test_calendar_prices_grow_with_the_text_size_on_one_line_without_sideways_scroll(live_server, page, make_user):
    """The phone's text-size setting, as a larger root font size: the calendars' short prices grow with it (rem),
    stay whole on one line inside their day, and the page never scrolls sideways (past about 18rem of width the
    month is a list, a day a row)."""
    page.set_viewport_size(PHONE)
    host = make_user(email="host@example.com")
    listing = make_listing(host, nightly_price_kes=12_500)
    signed_in(page.context, live_server, host)
    month = f"{_next_month():%Y-%m}"
    for where, path, price in [
        ("host calendar", f"/host/listings/{listing.slug}/calendar/?month={month}", "[data-night-price]"),
        (
            "availability calendar",
            f"{listing.get_absolute_url()}?month={month}",
            "#availability-calendar [data-day-price]",
        ),
    ]:
        page.goto(live_server.url + path)
        sizes = {}
        for text_size in ("100%", "125%", "150%", "200%"):
            page.evaluate(f"document.documentElement.style.fontSize = '{text_size}'")
            shown = page.locator(price).last.evaluate(_PRICE_TEXT)
            assert shown["text"] == "12.5k", (where, shown)
            assert shown["lines"] == 1, f"{where} at {text_size}: the price breaks over {shown['lines']} lines"
            assert shown["inside"], f"{where} at {text_size}: the price spills out of its day"
            assert shown["sideways"] <= 0, f"{where} at {text_size}: the page scrolls sideways by {shown['sideways']}px"
            sizes[text_size] = shown["size"]
        assert sizes["100%"] < sizes["150%"] < sizes["200%"], (where, sizes)
        assert sizes["200%"] >= 2 * sizes["100%"], (where, sizes)
    # In the host's list of days, the arrow down goes to the next day, the row below.
    page.goto(f"{live_server.url}/host/listings/{listing.slug}/calendar/?month={_next_month():%Y-%m}")
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    nights = page.locator("#host-calendar [data-night]:not([disabled])")
    nights.nth(2).focus()
    page.keyboard.press("ArrowDown")
    expect(nights.nth(3)).to_be_focused()
    page.evaluate("document.documentElement.style.fontSize = ''")
    nights.nth(2).focus()
    page.keyboard.press("ArrowDown")
    expect(nights.nth(9)).to_be_focused()  # a week on, in the grid

    page.goto(live_server.url + listing.get_absolute_url())
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    # The property page's bottom bar at the largest size: its price whole on one line, its action still on screen.
    bar = page.locator("#stay-bar")
    assert bar.locator("[data-bar-price]").evaluate(_ONE_LINE), "the bar's price breaks inside"
    expect(bar).to_contain_text("KES 12,500 a night")
    assert in_viewport(bar.locator("[data-bar-action]"))


def test_phone_journey_guest_from_search_to_confirmed_and_host_calendar_and_photo(
    live_server, page, browser, make_user, settings, tmp_path
):
    """At 360 px: every step's next action is inside the viewport when the step's page or fragment appears."""
    from daraja_emulator import dispatcher
    from tests.daraja import use_emulator

    use_emulator(settings, live_server, MPESA_EMULATOR_CALLBACK_DELAY_SECONDS=0.5)
    try:
        _guest_journey(live_server, page, make_user)
        _host_journey(live_server, browser, make_user, tmp_path)
    finally:
        dispatcher.stop()


# A folder to write each step's screenshot to, when looking at the journey by eye.
SHOTS = os.environ.get("NEXUS_JOURNEY_SHOTS")


def _step(page, name: str, action) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png")
    expect(action).to_be_visible()
    assert tappable_on_screen(action), f"{name}: the next action is not on screen without scrolling"


def _guest_journey(live_server, page, make_user):
    page.set_viewport_size(PHONE)
    host = make_user(email="host@example.com", full_name="Hassan Host")
    make_listing(host, title="Baobab Beach Cottage", cleaning_fee_kes=1_500)
    guest = make_user(email="achieng@example.com", full_name="Achieng Odhiambo")
    check_in, check_out = _stay(days_ahead=15, nights=3)
    signed_in(page.context, live_server, guest)

    page.goto(f"{live_server.url}/listings/?where=Diani&check_in={check_in}&check_out={check_out}&guests=2")
    result = page.locator("#search-results").get_by_role("link", name=re.compile("Baobab Beach Cottage")).first
    _step(page, "1-search", result)
    # The search is one line on a phone: the first result's title is on screen without scrolling.
    assert in_viewport(result.get_by_role("heading", name="Baobab Beach Cottage"))
    result.click()

    reserve = page.locator("#stay-bar [data-bar-action]")
    expect(reserve).to_have_text("Reserve")
    _step(page, "2-property", reserve)
    reserve.click()

    hold = page.get_by_role("button", name="Hold these dates")
    _step(page, "3-booking", hold)
    page.locator('[data-guest-row="1"]').get_by_label("Full name").fill("Otieno Ochieng")
    _step(page, "3-booking-typed", hold)
    hold.click()

    expect(page).to_have_url(re.compile(r"/trips/NX-[A-Z0-9]{6}/$"))
    pay = page.locator("#payment-status").get_by_role("button", name=re.compile(r"^Pay KES"))
    _step(page, "4-trip", pay)
    page.locator("#payment-status").get_by_label("M-Pesa phone number").fill("0700 000 001")
    pay.click()

    waiting = page.locator('[data-payment-state="waiting_for_pin"]')
    _step(page, "5-waiting", waiting)
    expect(page.locator("[data-prompt-countdown]")).to_contain_text("expires in")
    confirmed = page.locator('[data-payment-state="confirmed"]')
    expect(confirmed).to_be_visible(timeout=20_000)
    _step(page, "6-confirmed", confirmed)


def _big_photo(tmp_path) -> tuple[str, int]:
    """A 3200 × 2400 photo of a few megabytes, as a phone takes it."""
    import random
    from io import BytesIO

    from PIL import Image, ImageDraw

    rng = random.Random(7)
    image = Image.new("RGB", (3200, 2400), (40, 150, 190))
    draw = ImageDraw.Draw(image)
    for _ in range(4000):
        x, y = rng.randrange(3200), rng.randrange(2400)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle([x, y, x + rng.randrange(8, 60), y + rng.randrange(8, 60)], fill=colour)
    buffer = BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    path = tmp_path / "IMG_2041.jpg"
    path.write_bytes(buffer.getvalue())
    return str(path), len(buffer.getvalue())


def _host_journey(live_server, browser, make_user, tmp_path):
    from listings.models import ListingPhoto

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    host = make_user(email="wanjiru@example.com", full_name="Wanjiru Host")
    listing = make_listing(host, title="Tiwi Rock Pool Bungalow")
    signed_in(context, live_server, host)

    page.goto(f"{live_server.url}/host/listings/{listing.slug}/calendar/")
    calendar = page.locator("#host-calendar")
    nights = calendar.locator("[data-night]:not([disabled])")
    first = nights.nth(1)
    _step(page, "7-calendar", first)
    first.click()
    nights.nth(2).click()
    block = calendar.get_by_role("button", name="Block", exact=True)
    _step(page, "8-sheet", block)
    expect(calendar.locator("[data-selection-summary]")).to_contain_text("2 nights chosen")
    block.click()
    done = calendar.get_by_role("status")
    expect(done).to_have_text("Blocked 2 nights.")
    _step(page, "9-blocked", done)

    # Keys: the arrow moves to the next day, Enter chooses it.
    calendar.get_by_role("button", name="Clear").click()
    expect(calendar).to_have_attribute("data-selection", "no")
    nights.nth(3).focus()
    page.keyboard.press("ArrowRight")
    expect(nights.nth(4)).to_be_focused()
    page.keyboard.press("Enter")
    expect(nights.nth(4)).to_have_attribute("aria-pressed", "true")
    price = calendar.get_by_label("Price per night (KES)")
    price.fill("12500")
    set_price = calendar.get_by_role("button", name="Set price")
    _step(page, "10-price", set_price)
    set_price.click()
    expect(calendar.get_by_role("status")).to_have_text("Set the price of 1 night.")
    expect(calendar.locator("[data-price-override]")).to_have_text("12.5k")

    # A photo from the phone's camera on a slow connection: shrunk before sending, with progress, button disabled.
    page.goto(f"{live_server.url}/host/listings/{listing.slug}/edit/")
    path, size = _big_photo(tmp_path)
    photos = page.locator("#photo-list").locator("xpath=..")
    upload = photos.get_by_label("Add a photo")
    _step(page, "11-choose", upload)
    upload.set_input_files(path)
    expect(upload).to_have_attribute("data-upload-bytes", re.compile(r"^\d+$"))
    sent = int(upload.get_attribute("data-upload-bytes"))
    assert sent < size / 3, f"the photo was not shrunk before sending: {sent} of {size} bytes"
    button = photos.get_by_role("button", name="Upload photo")
    _step(page, "12-upload", button)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 150, "downloadThroughput": 100_000, "uploadThroughput": 60_000},
    )
    with page.expect_request(lambda request: request.method == "POST" and "/photos/" in request.url) as sending:
        button.click()
        expect(button).to_be_disabled()
    progress = photos.locator("[data-upload-progress]")
    expect(progress).to_be_visible()
    _step(page, "13-sending", progress)
    expect(photos.get_by_label("Caption of photo 1")).to_be_visible(timeout=30_000)
    expect(button).to_be_enabled()
    sent_over_the_wire = int(sending.value.all_headers().get("content-length", 0))
    assert 0 < sent_over_the_wire < size / 3, (sent_over_the_wire, size)  # the shrunk photo went, not the original
    assert ListingPhoto.objects.filter(listing=listing).count() == 1
    context.close()
