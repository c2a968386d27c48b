"""Listings for everyone: search, a listing's public details, its availability and a stay's quote. The search
page's form and the property page's selectors decide; these views only translate."""

from types import SimpleNamespace

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common import month_label, month_param, page_links
from api.errors import InvalidInput, form_errors
from api.serializers import (
    AvailabilitySerializer,
    ListingDetailSerializer,
    ListingPageSerializer,
    MonthParamsSerializer,
    QuoteParamsSerializer,
    QuoteSerializer,
    SearchParamsSerializer,
)
from core.clock import local_date
from listings import selectors
from listings.guest_forms import SearchForm, StayForm
from listings.models import CancellationPolicy
from listings.policies import policy_terms


def policy(code: str) -> dict:
    """A cancellation policy: its code, name and rules in words."""
    return {"code": code, "name": str(CancellationPolicy(code).label), "rules": [str(t) for t in policy_terms(code)]}


def listing_view(listing, **extra) -> SimpleNamespace:
    """A listing with what its detail serializer reads beside its fields."""
    view = SimpleNamespace(
        **{field.attname: getattr(listing, field.attname) for field in listing._meta.concrete_fields},
        area=listing.area,
        host_first_name=listing.host_first_name,
        policy=policy(listing.cancellation_policy),
        amenity_list=selectors.listing_amenities(listing=listing),
        photo_list=selectors.listing_photos(listing=listing),
    )
    for name, value in extra.items():
        setattr(view, name, value)
    return view


class ListingSearch(APIView):
    @extend_schema(
        operation_id="listings_search",
        parameters=[SearchParamsSerializer],
        responses=ListingPageSerializer,
        tags=["listings"],
    )
    def get(self, request):
        """Search published listings with the search page's parameters and rules, 12 a page. A dated search
        lists only bookable listings, each with the stay's total."""
        form = SearchForm(request.query_params)
        if not form.is_valid():
            raise InvalidInput(form_errors(form))
        results = selectors.listing_search(
            query=form.search_query(), page_number=request.query_params.get("page"), now=timezone.now()
        )
        next_url, previous_url = page_links(request, results.page)
        data = {
            "count": results.page.paginator.count,
            "next": next_url,
            "previous": previous_url,
            "results": results.cards,
        }
        return Response(ListingPageSerializer(data, context={"request": request}).data)


class ListingDetail(APIView):
    @extend_schema(operation_id="listings_detail", responses=ListingDetailSerializer, tags=["listings"])
    def get(self, request, slug: str):
        """A listing's public details: photos at each stored size, amenities, house rules, the cancellation
        policy in words and the host's first name. Never the address, directions, instructions or host's phone."""
        listing = selectors.listing_get_for_viewer(slug=slug, user=request.user)
        return Response(ListingDetailSerializer(listing_view(listing), context={"request": request}).data)


class ListingAvailability(APIView):
    @extend_schema(parameters=[MonthParamsSerializer], responses=AvailabilitySerializer, tags=["listings"])
    def get(self, request, slug: str):
        """Each night of a month: whether a stay can include it, its price and the minimum stay from it."""
        listing = selectors.listing_get_for_viewer(slug=slug, user=request.user)
        now = timezone.now()
        month = month_param(request) or local_date(now)
        calendar = selectors.availability_month(listing=listing, month=month, now=now)
        nights = [
            {
                "date": night.date,
                "available": night.available,
                "price_kes": night.price_kes,
                "min_nights": night.min_nights or listing.min_nights,
            }
            for week in calendar.weeks
            for night in week
            if night.in_month
        ]
        data = {
            "month": month_label(calendar.month),
            "previous_month": month_label(calendar.previous_month),
            "next_month": month_label(calendar.next_month),
            "nights": nights,
        }
        return Response(AvailabilitySerializer(data).data)


class ListingQuote(APIView):
    @extend_schema(parameters=[QuoteParamsSerializer], responses=QuoteSerializer, tags=["listings"])
    def get(self, request, slug: str):
        """The stay's price night by night, discounts, cleaning fee and total; or bookable false with the reason
        (and its code). Above KES 250,000 the total is paid in instalments."""
        listing = selectors.listing_get_for_viewer(slug=slug, user=request.user)
        form = StayForm(request.query_params)
        if form.is_valid() and form.stay() is None:
            missing = "check_in" if not form.cleaned_data.get("check_in") else "check_out"
            form.add_error(missing, "Choose both dates.")
        if not form.is_valid():
            raise InvalidInput(form_errors(form))
        quote = selectors.stay_quote(
            listing=listing, stay=form.stay(), guests=form.guests_or_default(), now=timezone.now()
        )
        return Response(QuoteSerializer(quote).data)
