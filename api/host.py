"""The host's side: their listings (create, read, change, publish), photos, the calendar and the bookings on
their places. The host pages' forms check the input and the same services change things; anyone else's listing,
photo or booking is a 404."""

from django.forms.models import model_to_dict
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common import SignedIn, month_label, month_param, page_links
from api.errors import InvalidInput, form_errors
from api.listings import listing_view
from api.serializers import (
    CalendarChangeSerializer,
    HostBookingPageSerializer,
    HostCalendarSerializer,
    HostListingInputSerializer,
    HostListingListSerializer,
    HostListingSerializer,
    MonthParamsSerializer,
    PhotoSerializer,
    PhotoUploadSerializer,
)
from core.clock import local_date
from listings.forms import CalendarEditForm, ListingForm, PhotoUploadForm
from listings.models import Listing
from listings.selectors import (
    host_calendar_month,
    host_month_bounds,
    listing_amenities,
    listing_get_for_host,
    listing_photo_get_for_host,
    listing_publish_missing,
    listings_for_host,
)
from listings.services import (
    LISTING_EDITABLE_FIELDS,
    calendar_block,
    calendar_set_min_nights,
    calendar_set_price,
    calendar_unblock,
    listing_create,
    listing_photo_add,
    listing_photo_delete,
    listing_publish,
    listing_unpublish,
    listing_update,
)
from reservations.forms import HostBookingFilterForm
from reservations.selectors import host_booking_rows

# The API's calendar actions and the calendar form's names for them.
CALENDAR_ACTIONS = {
    "block": "block",
    "unblock": "unblock",
    "price": "set-price",
    "reset_price": "reset-price",
    "min_nights": "set-min-nights",
    "reset_min_nights": "reset-min-nights",
}


def host_listing_data(request, listing: Listing) -> dict:
    view = listing_view(listing, missing=[str(item) for item in listing_publish_missing(listing=listing)])
    return HostListingSerializer(view, context={"request": request}).data


def _listing_form(body, *, listing: Listing | None = None) -> ListingForm:
    """The listing form over a JSON body; for a change, over the stored values with the body's on top."""
    if not isinstance(body, dict):
        raise InvalidInput({"non_field_errors": ["Send a JSON object."]})
    data: dict = {}
    if listing is not None:
        data = model_to_dict(listing, fields=LISTING_EDITABLE_FIELDS)
        data["amenities"] = [amenity.code for amenity in listing_amenities(listing=listing)]
    data.update({key: value for key, value in body.items() if key in (*LISTING_EDITABLE_FIELDS, "amenities")})
    data = {key: "" if value is None else value for key, value in data.items()}
    if not isinstance(data.get("amenities", []), list):
        raise InvalidInput({"amenities": ["Send a list of amenity codes."]})
    form = ListingForm(data, instance=listing)
    if not form.is_valid():
        raise InvalidInput(form_errors(form))
    return form


class HostListingCollection(APIView):
    permission_classes = [SignedIn]

    @extend_schema(operation_id="host_listings_list", responses=HostListingListSerializer, tags=["host"])
    def get(self, request):
        """Your listings, newest first, with their photo counts and covers."""
        rows = listings_for_host(host=request.user)
        return Response(HostListingListSerializer({"results": rows}, context={"request": request}).data)

    @extend_schema(
        operation_id="host_listings_create",
        request=HostListingInputSerializer,
        responses={201: HostListingSerializer},
        tags=["host"],
    )
    def post(self, request):
        """A new listing, unpublished: the listing form's fields and checks."""
        form = _listing_form(request.data)
        listing = listing_create(
            host=request.user, fields=form.service_fields(), amenities=form.cleaned_data["amenities"]
        )
        return Response(host_listing_data(request, listing), status=status.HTTP_201_CREATED)


class HostListingDetail(APIView):
    permission_classes = [SignedIn]

    @extend_schema(operation_id="host_listings_detail", responses=HostListingSerializer, tags=["host"])
    def get(self, request, slug: str):
        """Your listing with its private details and what publishing still needs."""
        return Response(host_listing_data(request, listing_get_for_host(host=request.user, slug=slug)))

    @extend_schema(
        operation_id="host_listings_update",
        request=HostListingInputSerializer,
        responses=HostListingSerializer,
        tags=["host"],
    )
    def patch(self, request, slug: str):
        """Change some fields; `publish` true publishes (refused with the same reasons as the page: photos, price,
        guests), false unpublishes."""
        listing = listing_get_for_host(host=request.user, slug=slug)
        if not isinstance(request.data, dict):
            raise InvalidInput({"non_field_errors": ["Send a JSON object."]})
        publish = request.data.get("publish")
        if publish is not None and not isinstance(publish, bool):
            raise InvalidInput({"publish": ["Send true or false."]})
        if set(request.data) - {"publish"}:
            form = _listing_form(request.data, listing=listing)
            listing = listing_update(
                listing=listing, fields=form.service_fields(), amenities=form.cleaned_data["amenities"]
            )
        if publish is True:
            listing = listing_publish(listing=listing)
        elif publish is False:
            listing = listing_unpublish(listing=listing)
        return Response(host_listing_data(request, listing_get_for_host(host=request.user, slug=slug)))


class HostPhotoCollection(APIView):
    permission_classes = [SignedIn]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="host_photos_add",
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={201: PhotoSerializer},
        tags=["host"],
    )
    def post(self, request, slug: str):
        """Add a photo (multipart `image`, optional `caption`): a real JPEG, PNG or WebP within the size and pixel
        limits, re-encoded without its EXIF data, as on the page."""
        listing = listing_get_for_host(host=request.user, slug=slug)
        form = PhotoUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            raise InvalidInput(form_errors(form))
        photo = listing_photo_add(
            listing=listing, upload=form.cleaned_data["image"], caption=form.cleaned_data["caption"]
        )
        return Response(PhotoSerializer(photo, context={"request": request}).data, status=status.HTTP_201_CREATED)


class HostPhotoDetail(APIView):
    permission_classes = [SignedIn]

    @extend_schema(operation_id="host_photos_delete", responses={204: None}, tags=["host"])
    def delete(self, request, slug: str, photo_id: int):
        """Remove a photo of your listing."""
        photo = listing_photo_get_for_host(host=request.user, slug=slug, photo_id=photo_id)
        listing_photo_delete(photo=photo)
        return Response(status=status.HTTP_204_NO_CONTENT)


def calendar_data(listing: Listing, month) -> dict:
    """The host's calendar month (kept between this month and the calendar's horizon)."""
    this_month, horizon = host_month_bounds(today=local_date())
    month = min(max(month or this_month, this_month), horizon)
    calendar = host_calendar_month(listing=listing, month=month)
    return {
        "month": month_label(calendar.month),
        "previous_month": month_label(calendar.previous_month),
        "next_month": month_label(calendar.next_month),
        "nights": [night for week in calendar.weeks for night in week if night.in_month],
    }


class HostCalendar(APIView):
    permission_classes = [SignedIn]

    @extend_schema(
        operation_id="host_calendar_month",
        parameters=[MonthParamsSerializer],
        responses=HostCalendarSerializer,
        tags=["host"],
    )
    def get(self, request, slug: str):
        """A month of your calendar: each night's price, block and note, minimum stay and booking."""
        listing = listing_get_for_host(host=request.user, slug=slug)
        return Response(HostCalendarSerializer(calendar_data(listing, month_param(request))).data)

    @extend_schema(
        operation_id="host_calendar_change",
        request=CalendarChangeSerializer,
        responses=HostCalendarSerializer,
        tags=["host"],
    )
    def post(self, request, slug: str):
        """Change a range of nights: block (with a note), unblock, price (price_kes), reset_price, min_nights
        (min_nights), reset_min_nights. Answers the month of the first night."""
        listing = listing_get_for_host(host=request.user, slug=slug)
        serializer = CalendarChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["action"] = CALENDAR_ACTIONS[data["action"]]
        form = CalendarEditForm({key: "" if value is None else value for key, value in data.items()})
        if not form.is_valid():
            raise InvalidInput(form_errors(form))
        cleaned = form.cleaned_data
        span = {"listing": listing, "first_night": cleaned["first_night"], "last_night": cleaned["last_night"]}
        action = cleaned["action"]
        if action == "block":
            calendar_block(**span, note=cleaned["note"])
        elif action == "unblock":
            calendar_unblock(**span)
        elif action in ("set-price", "reset-price"):
            calendar_set_price(**span, price_kes=cleaned["price_kes"] if action == "set-price" else None)
        else:
            calendar_set_min_nights(**span, min_nights=cleaned["min_nights"] if action == "set-min-nights" else None)
        return Response(HostCalendarSerializer(calendar_data(listing, cleaned["first_night"])).data)


class HostBookings(APIView):
    permission_classes = [SignedIn]

    @extend_schema(
        operation_id="host_bookings_list",
        parameters=[
            OpenApiParameter("listing", str, description="A listing's slug."),
            OpenApiParameter("status", str, enum=["held", "awaiting_payment", "confirmed", "expired", "cancelled"]),
            OpenApiParameter("page", int),
        ],
        responses=HostBookingPageSerializer,
        tags=["host"],
    )
    def get(self, request):
        """Bookings on your places, 25 a page, newest stay first; guests' e-mail and whole phone numbers only once
        a booking is confirmed (the host bookings page's rule)."""
        form = HostBookingFilterForm(request.query_params, host=request.user)
        if not form.is_valid():
            raise InvalidInput(form_errors(form))
        page, rows = host_booking_rows(
            host=request.user,
            listing_slug=form.cleaned_data["listing"],
            status=form.cleaned_data["status"],
            page_number=request.query_params.get("page"),
            now=timezone.now(),
        )
        next_url, previous_url = page_links(request, page)
        data = {"count": page.paginator.count, "next": next_url, "previous": previous_url, "results": rows}
        return Response(HostBookingPageSerializer(data).data)
