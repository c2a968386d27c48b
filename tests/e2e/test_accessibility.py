"""The accessibility gate: axe-core over every page a guest, a host and a support agent use, at 360 px and at
desktop width, with the demo data (a held, a paying and a confirmed trip). No serious or critical violation may
remain. The Django admin and the emulators' own pages are not part of the product and are not checked."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from daraja_emulator import dispatcher
from listings.models import Listing
from listings.selectors import Stay, stay_quote
from mpesa.models import Payment
from mpesa.services import payment_start
from reservations.models import Booking
from reservations.services import GuestData, booking_hold
from tests.daraja import use_emulator
from tests.helpers.axe import AXE_SCRIPT, describe, serious_violations
from tests.helpers.browser import signed_in
from tests.helpers.support import with_second_factor

pytestmark = pytest.mark.django_db(transaction=True)

# Never calls back: the trip stays "paying" while the page is checked.
SILENT_PHONE = "254700000005"


@pytest.fixture(autouse=True)
def _emulated_daraja(settings, live_server):
    use_emulator(settings, live_server)
    yield
    dispatcher.stop()


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    settings.DEBUG = False
    with_second_factor(_user("support@nexus.test"))


def _user(email):
    from core.models import User

    return User.objects.get(email=email)


def _context(browser, live_server, viewport, email=None):
    context = browser.new_context(bypass_csp=True, viewport=viewport)
    if email:
        signed_in(context, live_server, _user(email))
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def _bookable_stay(listing: Listing, month: datetime.date) -> Stay:
    """The first bookable stay of the listing's shortest length that starts in `month`."""
    nights = max(listing.min_nights, 2)
    day = month
    while day.month == month.month:
        stay = Stay(check_in=day, check_out=day + datetime.timedelta(days=nights))
        if stay_quote(listing=listing, stay=stay, guests=1, now=timezone.now()).bookable:
            return stay
        day += datetime.timedelta(days=1)
    raise AssertionError(f"no bookable stay in {month:%B %Y} for {listing}")


def _paying_trip(guest) -> Booking:
    """A stay of the demo guest's on a demo listing, with a prompt sent to a phone that never answers."""
    listing = Listing.objects.filter(is_published=True, host__email="host@nexus.test").order_by("pk").last()
    today = timezone.localdate()
    stay = _bookable_stay(listing, (today + datetime.timedelta(days=100)).replace(day=1))
    quote = stay_quote(listing=listing, stay=stay, guests=1, now=timezone.now())
    booking = booking_hold(
        booker=guest,
        listing_id=listing.pk,
        stay=stay,
        guests=[GuestData(full_name=guest.full_name, email=guest.email)],
        shown_total_kes=quote.total_kes,
        idempotency_key="axe-paying",
    )
    payment_start(booking=booking, user=guest, phone=SILENT_PHONE)
    return booking


def _check(found, page, where):
    expect(page.locator("main")).to_be_visible()
    found[where] = serious_violations(page)


@pytest.mark.skipif(not AXE_SCRIPT.exists(), reason="needs axe-core from npm: run npm ci")
def test_no_serious_or_critical_violations_on_any_page(live_server, browser, viewport, demo):
    url = live_server.url
    found: dict[str, list[dict]] = {}
    guest = _user("guest@nexus.test")
    listing = Listing.objects.filter(is_published=True, host__email="host@nexus.test").order_by("pk").first()

    # Anyone.
    page = _context(browser, live_server, viewport)
    for where, path in [
        ("home", "/"),
        ("search with results", "/listings/?where=Diani"),
        ("search without results", "/listings/?where=Atlantis"),
        ("sign-in", "/accounts/login/"),
        ("sign-up", "/accounts/signup/"),
        ("password reset", "/accounts/password/reset/"),
        ("password reset done", "/accounts/password/reset/done/"),
    ]:
        page.goto(url + path)
        _check(found, page, where)

    # A search with dates and guests: on a phone the form is folded into its summary line, then opened.
    check_in = timezone.localdate() + datetime.timedelta(days=40)
    page.goto(
        f"{url}/listings/?where=Diani&check_in={check_in}&check_out={check_in + datetime.timedelta(days=3)}&guests=2"
    )
    _check(found, page, "search with dates and guests")
    edit = page.locator("#search-edit > summary")
    if edit.is_visible():
        edit.click()
        expect(page.get_by_label("Guests", exact=True)).to_be_visible()
        _check(found, page, "search with dates and guests, form opened")

    page.goto(f"{url}{listing.get_absolute_url()}")
    _check(found, page, "property page")
    calendar = page.locator("#availability-calendar")
    month = calendar.get_attribute("data-month")
    page.get_by_role("link", name="Next month").click()
    expect(calendar).not_to_have_attribute("data-month", month)
    _check(found, page, "property page, calendar moved a month")
    shown = datetime.date.fromisoformat(calendar.get_attribute("data-month") + "-01")
    stay = _bookable_stay(listing, shown)
    calendar.locator(f'[data-day="{stay.check_in}"]').click()
    calendar.locator(f'[data-day="{stay.check_out}"]').click()
    expect(page.locator("[data-quote-total]").first).to_be_visible()
    _check(found, page, "property page, dates picked and quote shown")
    page.evaluate("document.documentElement.style.fontSize = '200%'")  # the phone's largest text size
    _check(found, page, "property page, dates picked, text at 200%")
    page.context.close()

    # The demo guest: a held trip, a paying one and a confirmed one.
    paying = _paying_trip(guest)
    held = Booking.objects.get(booker=guest, idempotency_key="demo-kilifi-held")
    confirmed = Booking.objects.get(booker=guest, idempotency_key="demo-diani-family")
    page = _context(browser, live_server, viewport, "guest@nexus.test")
    book = f"{listing.get_absolute_url()}book/?check_in={stay.check_in}&check_out={stay.check_out}&guests=2"
    for where, path in [
        ("profile", "/accounts/profile/"),
        ("trips", "/trips/"),
        ("trip held", f"/trips/{held.ref}/"),
        ("trip paying", f"/trips/{paying.ref}/"),
        ("trip confirmed", f"/trips/{confirmed.ref}/"),
        ("booking page", book),
    ]:
        page.goto(url + path)
        _check(found, page, where)
    page.get_by_role("button", name="Hold these dates").click()  # the second guest has no name yet
    expect(page.locator("[data-error-summary]")).to_be_focused()
    _check(found, page, "booking page, refused with its error summary")
    page.context.close()

    # The demo host.
    page = _context(browser, live_server, viewport, "host@nexus.test")
    for where, path in [
        ("host dashboard", "/host/"),
        ("listing edit", f"/host/listings/{listing.slug}/edit/"),
        ("listing calendar", f"/host/listings/{listing.slug}/calendar/"),
        ("host bookings", "/host/bookings/"),
    ]:
        page.goto(url + path)
        _check(found, page, where)
    page.goto(f"{url}/host/listings/{listing.slug}/calendar/")
    page.locator("#host-calendar [data-night]:not([disabled])").first.click()
    expect(page.locator("#host-calendar")).to_have_attribute("data-selection", "yes")
    _check(found, page, "listing calendar, nights chosen")
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    _check(found, page, "listing calendar, nights chosen, text at 200%")
    page.context.close()

    # A support agent.
    payment = Payment.objects.get(booking=paying)
    page = _context(browser, live_server, viewport, "support@nexus.test")
    for where, path in [
        ("support search with results", f"/support/?q={paying.ref}"),
        ("support payment", f"/support/payments/{payment.pk}/"),
        ("attention list", "/support/attention/"),
    ]:
        page.goto(url + path)
        _check(found, page, where)
    page.context.close()

    counts = {where: sum(len(v["nodes"]) for v in violations) for where, violations in found.items()}
    print("axe serious/critical nodes per page:", counts)
    failures = {where: violations for where, violations in found.items() if violations}
    assert not failures, "axe-core found serious or critical violations:\n" + describe(failures)


def _outline(page) -> str:
    return page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")


def test_moving_a_month_by_keyboard_keeps_the_focus_on_the_calendar(live_server, sized_page, make_user):
    from tests.listings.builders import make_listing

    page = sized_page
    host = make_user(email="host@example.com", full_name="Hassan Host")
    listing = make_listing(host, title="Diani beach cottage")

    page.goto(f"{live_server.url}{listing.get_absolute_url()}")
    calendar = page.locator("#availability-calendar")
    month = calendar.get_attribute("data-month")
    next_month = page.get_by_role("link", name="Next month")
    next_month.focus()
    page.keyboard.press("Enter")
    expect(calendar).not_to_have_attribute("data-month", month)
    expect(page.get_by_role("link", name="Next month")).to_be_focused()
    assert _outline(page) == "solid", "the focused link shows no focus ring"
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Previous month")).to_be_visible()
    expect(page.get_by_role("link", name="Next month")).to_be_focused()

    # The host's calendar: the month link keeps the focus too, though its text names the new month.
    signed_in(page.context, live_server, host)
    page.goto(f"{live_server.url}/host/listings/{listing.slug}/calendar/")
    heading = page.locator("#calendar-month")
    shown = heading.inner_text()
    page.locator('#host-calendar a[rel="next"]').focus()
    page.keyboard.press("Enter")
    expect(heading).not_to_have_text(shown)
    expect(page.locator('#host-calendar a[rel="next"]')).to_be_focused()


def test_two_swaps_at_once_each_keep_their_own_focus(live_server, sized_page, make_user):
    """The reviews section loads by htmx while a guest moves a month: the calendar's swap must still put the focus
    back on "Next month" when the reviews' swap starts before the calendar's settles (one record for every swap
    in flight lost it). The two swaps are played by their htmx events, in that order, in the real page."""
    from tests.listings.builders import make_listing

    page = sized_page
    listing = make_listing(make_user(email="host@example.com"), title="Diani beach cottage")
    page.goto(f"{live_server.url}{listing.get_absolute_url()}")
    expect(page.locator("#listing-reviews")).to_be_attached()
    page.get_by_role("link", name="Next month").focus()
    focused = page.evaluate(
        """() => {
          const fire = (element, name, target) =>
            element.dispatchEvent(new CustomEvent(name, {bubbles: true, detail: {target: target}}));
          const calendar = document.getElementById("availability-calendar");
          const reviews = document.getElementById("listing-reviews");
          fire(calendar, "htmx:beforeSwap", calendar);
          fire(reviews, "htmx:beforeSwap", reviews);
          const month = calendar.cloneNode(true);  // the new month replaces the old one: the focus is lost
          calendar.replaceWith(month);
          fire(month, "htmx:afterSettle", calendar);
          fire(reviews, "htmx:afterSettle", reviews);
          const active = document.activeElement;
          return active && month.contains(active) ? active.getAttribute("aria-label") : null;
        }"""
    )
    assert focused == "Next month"
