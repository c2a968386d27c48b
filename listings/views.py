import datetime
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from core.clock import local_date
from core.htmx import HtmxHttpRequest, is_fragment_request
from core.page_cache import cache_anonymous_page
from core.reverse import reverse
from listings import selectors
from listings.guest_forms import SearchForm, StayForm
from listings.models import Listing
from listings.policies import policy_terms


def _stay_query(stay: selectors.Stay | None, guests: int | None) -> str:
    params = {}
    if stay is not None:
        params = {"check_in": stay.check_in.isoformat(), "check_out": stay.check_out.isoformat()}
    if guests:
        params["guests"] = guests
    return urlencode(params)


def _undated(request: HtmxHttpRequest) -> bool:
    """A search without dates: it shows no availability, so an anonymous visitor's may come from the page cache."""
    return not any(request.GET.getlist("check_in")) and not any(request.GET.getlist("check_out"))


@require_GET
@cache_anonymous_page()
def home(request: HtmxHttpRequest) -> HttpResponse:
    return render(
        request,
        "listings/home.html",
        {"form": SearchForm(), "cards": selectors.listings_featured()},
    )


@require_GET
@vary_on_headers("HX-Request")
@cache_anonymous_page(when=_undated)
def listing_search(request: HtmxHttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    results, stay_query, status = None, "", 200
    if form.is_valid():
        query = form.search_query()
        results = selectors.listing_search(query=query, page_number=request.GET.get("page"), now=timezone.now())
        stay_query = _stay_query(query.stay, form.cleaned_data.get("guests"))
    else:
        status = 422
    template_name = "listings/listing_search.html"
    fragment = is_fragment_request(request)
    if fragment:
        template_name += "#search-results"
    # The place typed and whether the form shows open, as plain names: the template read `form.where.value` three
    # times through Django's variable lookup (dated search 7.51 -> 7.38 M instructions; bench/instructions.py).
    context = {
        "form": form,
        "results": results,
        "stay_query": stay_query,
        "heading_out_of_band": fragment,
        "where": form.sent("where"),
        "search_open": results is None or not request.GET,
    }
    return render(request, template_name, context, status=status)


def _stay_form(request: HtmxHttpRequest) -> tuple[StayForm, selectors.Stay | None, int]:
    form = StayForm(request.GET)
    if form.is_valid():
        return form, form.stay(), form.guests_or_default()
    return form, None, 1


def _stay_context(
    listing: Listing, form: StayForm, stay: selectors.Stay | None, guests: int, stay_quote: selectors.Quote | None
) -> dict:
    """The stay form, the stay, its quote and the link to book it."""
    reserve_url = ""
    if stay_quote is not None and stay_quote.bookable:
        booking_page = reverse("reservations:booking-new", kwargs={"slug": listing.slug})
        reserve_url = f"{booking_page}?{_stay_query(stay, guests)}"
    return {
        "stay_form": form,
        "stay": stay,
        "guests": guests,
        "quote": stay_quote,
        "reserve_url": reserve_url,
    }


def _calendar_context(request: HtmxHttpRequest, month_view: selectors.AvailabilityMonth) -> dict:
    # The stay's part of both month links encoded once: urlencode({**kept, "month": ...}) writes the same text.
    kept = urlencode({key: request.GET[key] for key in ("check_in", "check_out", "guests") if request.GET.get(key)})

    def month_query(target: datetime.date | None) -> str:
        if target is None:
            return ""
        return f"{kept}&month={target:%Y-%m}" if kept else f"month={target:%Y-%m}"

    return {
        "calendar": month_view,
        "previous_month_query": month_query(month_view.previous_month),
        "next_month_query": month_query(month_view.next_month),
    }


@require_GET
@vary_on_headers("HX-Request")
def listing_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    now = timezone.now()
    form, stay, guests = _stay_form(request)
    month = selectors.month_from_query(request.GET.get("month")) or (stay.check_in if stay else local_date(now))
    if is_fragment_request(request):  # the calendar month alone (it shows no quote)
        listing = selectors.listing_get_for_viewer(slug=slug, user=request.user)
        month_view, _ = selectors.availability_month_and_quote(
            listing=listing, month=month, now=now, stay=stay, guests=guests, quote=False
        )
        context = {"listing": listing, "listing_url": listing.get_absolute_url()}
        context.update(_calendar_context(request, month_view))
        return render(request, "listings/listing_detail.html#availability-calendar", context)
    # The listing, the month, the stay's quote, the photos and the amenities in one statement.
    page = selectors.property_page(slug=slug, user=request.user, month=month, now=now, stay=stay, guests=guests)
    listing = page.listing
    context = {"listing": listing, "listing_url": listing.get_absolute_url()}
    context.update(
        **_calendar_context(request, page.month),
        **_stay_context(listing, form, stay, guests, page.quote),
        photos=page.photos,
        amenities=page.amenities,
        listing_content=page.listing_content,
        policy_terms=policy_terms(listing.cancellation_policy),
    )
    status = 422 if form.errors else 200
    return render(request, "listings/listing_detail.html", context, status=status)


@require_GET
@vary_on_headers("HX-Request")
def listing_quote(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The live quote fragment. Without htmx, the property page shows the same quote."""
    listing = selectors.listing_get_for_viewer(slug=slug, user=request.user)
    if not is_fragment_request(request):
        query = request.GET.urlencode()
        return redirect(f"{listing.get_absolute_url()}{'?' + query if query else ''}")
    # The phone's bottom bar follows the same quote: it comes back out of band with it.
    form, stay, guests = _stay_form(request)
    stay_quote = None
    if stay is not None:
        stay_quote = selectors.stay_quote(listing=listing, stay=stay, guests=guests, now=timezone.now())
    context = {
        "listing": listing,
        "stay_bar_out_of_band": True,
        **_stay_context(listing, form, stay, guests, stay_quote),
    }
    status = 422 if context["stay_form"].errors else 200
    return render(request, "listings/listing_detail.html#stay-quote", context, status=status)
