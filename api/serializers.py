"""The API's shapes: what each endpoint reads and answers. Input serializers check shapes only; every rule that
reads other rows is the service's or the selector's, as on the pages. Money is integer `_kes`, dates ISO 8601,
times with the Nairobi offset."""

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from core.clock import local_date
from core.phone import normalise_phone
from core.site import absolute_url
from listings.guest_forms import BOOKING_HORIZON, MAX_SEARCH_GUESTS
from listings.models import Amenity, PropertyType
from listings.selectors import SORT_ORDERS
from reservations.forms import ABSOLUTE_MAX_GUESTS
from reservations.models import Booking, BookingGuest

IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9-]{8,64}")


def absolute(url: str) -> str:
    """A stored file's URL as an absolute URL on SITE_URL ("" stays ""); a storage that gives absolute URLs (a
    bucket's public origin) keeps them."""
    if not url:
        return ""
    return url if urlsplit(url).scheme else absolute_url(url)


# --- Listings ---------------------------------------------------------------------------------------------------


class SearchParamsSerializer(serializers.Serializer):
    """The search page's parameters (documentation: the search form checks them)."""

    where = serializers.CharField(required=False, max_length=100)
    check_in = serializers.DateField(required=False)
    check_out = serializers.DateField(required=False)
    guests = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SEARCH_GUESTS)
    property_type = serializers.ChoiceField(required=False, choices=PropertyType.choices)
    min_price = serializers.IntegerField(required=False, min_value=0)
    max_price = serializers.IntegerField(required=False, min_value=0)
    amenities = serializers.ListField(child=serializers.ChoiceField(choices=Amenity.Code.choices), required=False)
    sort = serializers.ChoiceField(required=False, choices=list(SORT_ORDERS))
    page = serializers.IntegerField(required=False, min_value=1)


class ListingCardSerializer(serializers.Serializer):
    slug = serializers.CharField(source="listing.slug")
    title = serializers.CharField(source="listing.title")
    area = serializers.CharField(source="listing.area")
    county = serializers.CharField(source="listing.county")
    property_type = serializers.CharField(source="listing.property_type")
    max_guests = serializers.IntegerField(source="listing.max_guests")
    nightly_price_kes = serializers.IntegerField(source="listing.nightly_price_kes")
    total_kes = serializers.SerializerMethodField(help_text="The stay's total for a dated search; null without dates.")
    cover_url = serializers.SerializerMethodField(help_text="The cover photo's small size (absolute URL).")
    cover_medium_url = serializers.SerializerMethodField(
        help_text="The cover photo at card size on a phone, about 720 px wide (absolute URL)."
    )

    def get_total_kes(self, card) -> int | None:
        return card.quote.total_kes if card.quote is not None and card.quote.bookable else None

    def get_cover_url(self, card) -> str:
        return absolute(card.cover_url)

    def get_cover_medium_url(self, card) -> str:
        return absolute(card.cover.src if card.cover is not None else "")


class ListingPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ListingCardSerializer(many=True)


class PhotoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    caption = serializers.CharField()
    order = serializers.IntegerField()
    image_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    medium_url = serializers.SerializerMethodField()

    def get_image_url(self, photo) -> str:
        return absolute(photo.image.url if photo.image else "")

    def get_thumbnail_url(self, photo) -> str:
        return absolute(photo.thumbnail.url if photo.thumbnail else "")

    def get_medium_url(self, photo) -> str:
        return absolute(photo.medium.url if photo.medium else "")


class AmenitySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(source="get_code_display")


class PolicySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    rules = serializers.ListField(child=serializers.CharField())


class ListingDetailSerializer(serializers.Serializer):
    """A listing's public details: nothing of its private fields (address, directions, instructions, phone)."""

    slug = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    property_type = serializers.CharField()
    county = serializers.CharField()
    town = serializers.CharField()
    area = serializers.CharField()
    max_guests = serializers.IntegerField(allow_null=True)
    bedrooms = serializers.IntegerField()
    beds = serializers.IntegerField()
    bathrooms = serializers.IntegerField()
    nightly_price_kes = serializers.IntegerField(allow_null=True)
    cleaning_fee_kes = serializers.IntegerField()
    weekly_discount_percent = serializers.IntegerField()
    monthly_discount_percent = serializers.IntegerField()
    min_nights = serializers.IntegerField()
    max_nights = serializers.IntegerField()
    advance_notice_days = serializers.IntegerField()
    same_day_cutoff_hour = serializers.IntegerField()
    check_in_time = serializers.TimeField(format="%H:%M")
    check_out_time = serializers.TimeField(format="%H:%M")
    house_rules = serializers.CharField()
    is_published = serializers.BooleanField()
    host_first_name = serializers.CharField()
    cancellation_policy = PolicySerializer(source="policy")
    amenities = AmenitySerializer(many=True, source="amenity_list")
    photos = PhotoSerializer(many=True, source="photo_list")


class AvailabilityNightSerializer(serializers.Serializer):
    date = serializers.DateField()
    available = serializers.BooleanField()
    price_kes = serializers.IntegerField(allow_null=True)
    min_nights = serializers.IntegerField(allow_null=True, help_text="A minimum stay set for check-ins on this night.")


class AvailabilitySerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    previous_month = serializers.CharField(allow_null=True)
    next_month = serializers.CharField(allow_null=True)
    nights = AvailabilityNightSerializer(many=True)


class MonthParamsSerializer(serializers.Serializer):
    month = serializers.CharField(required=False, help_text="YYYY-MM; this month when left out.")


class QuoteParamsSerializer(serializers.Serializer):
    check_in = serializers.DateField()
    check_out = serializers.DateField()
    guests = serializers.IntegerField(required=False, min_value=1, max_value=ABSOLUTE_MAX_GUESTS)


class QuoteNightSerializer(serializers.Serializer):
    date = serializers.DateField()
    price_kes = serializers.IntegerField()
    special_price = serializers.BooleanField()


class QuoteSerializer(serializers.Serializer):
    bookable = serializers.BooleanField()
    code = serializers.CharField(help_text="Why the stay cannot be booked (empty when bookable).")
    reason = serializers.CharField(help_text="The same, in a sentence a guest can read.")
    check_in = serializers.DateField(source="stay.check_in")
    check_out = serializers.DateField(source="stay.check_out")
    guests = serializers.IntegerField()
    nights = QuoteNightSerializer(many=True)
    nights_total_kes = serializers.IntegerField()
    discount_name = serializers.CharField()
    discount_percent = serializers.IntegerField()
    discount_kes = serializers.IntegerField()
    cleaning_fee_kes = serializers.IntegerField()
    total_kes = serializers.IntegerField()
    cancellation_policy = serializers.CharField()
    pays_in_instalments = serializers.BooleanField(help_text="Above the M-Pesa limit the total is paid in parts.")
    instalment_limit_kes = serializers.IntegerField()


# --- Bookings ---------------------------------------------------------------------------------------------------


class PhoneField(serializers.CharField):
    """A Kenyan mobile number, cleaned by the one phone normaliser to 2547XXXXXXXX / 2541XXXXXXXX."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not value:
            return ""
        try:
            return normalise_phone(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages)


class GuestInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    phone = PhoneField(required=False, allow_blank=True, max_length=32)
    age_group = serializers.ChoiceField(choices=BookingGuest.AgeGroup.choices, default=BookingGuest.AgeGroup.ADULT)

    def validate_name(self, value: str) -> str:
        name = " ".join(value.split())
        if not name:
            raise serializers.ValidationError("Enter this guest's full name.")
        return name


class BookingCreateSerializer(serializers.Serializer):
    listing = serializers.SlugField(max_length=140)
    check_in = serializers.DateField()
    check_out = serializers.DateField()
    shown_total_kes = serializers.IntegerField(min_value=0, max_value=100_000_000)
    guests = GuestInputSerializer(many=True, min_length=1, max_length=ABSOLUTE_MAX_GUESTS)

    def validate(self, data):
        if data["check_out"] <= data["check_in"]:
            raise serializers.ValidationError({"check_out": ["Check-out must be after check-in."]})
        if max(data["check_in"], data["check_out"]) > local_date() + BOOKING_HORIZON:
            raise serializers.ValidationError({"check_out": ["Choose dates within the next two years."]})
        return data


class BookingListingSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    area = serializers.CharField()


class BookingGuestSerializer(serializers.Serializer):
    name = serializers.CharField(source="full_name")
    email = serializers.CharField()
    phone = serializers.CharField()
    age_group = serializers.CharField()


class BookingNightSerializer(serializers.Serializer):
    date = serializers.DateField()
    price_kes = serializers.IntegerField()


class PrivateDetailsSerializer(serializers.Serializer):
    street_address = serializers.CharField()
    directions = serializers.CharField()
    check_in_instructions = serializers.CharField()
    host_phone = serializers.CharField()


class PaymentSummarySerializer(serializers.Serializer):
    state = serializers.CharField(help_text="The payment panel's state: ready, waiting_for_pin, confirmed, …")
    message = serializers.CharField()
    paid_kes = serializers.IntegerField()
    due_kes = serializers.IntegerField()
    next_amount_kes = serializers.IntegerField()
    refund_due_kes = serializers.IntegerField()
    refunded_kes = serializers.IntegerField()
    receipts = serializers.ListField(child=serializers.CharField())
    latest_payment_id = serializers.IntegerField(allow_null=True)


class BookingEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="created_at")
    message = serializers.CharField()


class BookingSerializer(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Booking.Status.choices)
    listing = BookingListingSerializer()
    check_in = serializers.DateField()
    check_out = serializers.DateField()
    check_in_at = serializers.DateTimeField()
    guest_count = serializers.IntegerField()
    blocks_until = serializers.DateTimeField(allow_null=True, help_text="While held: when the nights go free.")
    created_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    is_booker = serializers.BooleanField()
    nights = BookingNightSerializer(many=True)
    nights_total_kes = serializers.IntegerField()
    discount_name = serializers.CharField()
    discount_kes = serializers.IntegerField()
    cleaning_fee_kes = serializers.IntegerField()
    total_kes = serializers.IntegerField()
    cancellation_policy = PolicySerializer()
    guests = BookingGuestSerializer(many=True)
    private_details = PrivateDetailsSerializer(allow_null=True)
    payment = PaymentSummarySerializer(allow_null=True, help_text="The booker's only.")
    can_cancel = serializers.BooleanField()
    refund_if_cancelled_kes = serializers.IntegerField(allow_null=True, help_text="The booker's only.")
    events = BookingEventSerializer(many=True)


class BookingListItemSerializer(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Booking.Status.choices)
    listing = BookingListingSerializer()
    check_in = serializers.DateField()
    check_out = serializers.DateField()
    guest_count = serializers.IntegerField()
    is_booker = serializers.BooleanField()
    total_kes = serializers.IntegerField()
    blocks_until = serializers.DateTimeField(allow_null=True)


class BookingListSerializer(serializers.Serializer):
    results = BookingListItemSerializer(many=True)


class CancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class CancelResultSerializer(serializers.Serializer):
    booking = BookingSerializer()
    refund_due_kes = serializers.IntegerField(help_text="What this cancellation owes back.")


# --- Payments ---------------------------------------------------------------------------------------------------


class PaymentStartSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32, help_text="The M-Pesa number to prompt, e.g. 0708 374 149.")


class PaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    amount_kes = serializers.IntegerField()
    phone = serializers.CharField(help_text="Masked.")
    receipt = serializers.CharField(allow_null=True)
    message = serializers.CharField(help_text="What went wrong, when it failed.")
    created_at = serializers.DateTimeField()
    booking_reference = serializers.CharField()
    booking_status = serializers.ChoiceField(choices=Booking.Status.choices)
    check_due = serializers.BooleanField(help_text="Whether asking M-Pesa now (check/) would be answered.")


# --- Host -------------------------------------------------------------------------------------------------------


class HostListingSerializer(ListingDetailSerializer):
    """The host's own listing: the public details and the private ones."""

    street_address = serializers.CharField()
    directions = serializers.CharField()
    check_in_instructions = serializers.CharField()
    host_phone = serializers.CharField()
    publish_missing = serializers.ListField(child=serializers.CharField(), source="missing")


class HostListingRowSerializer(serializers.Serializer):
    slug = serializers.CharField(source="listing.slug")
    title = serializers.CharField(source="listing.title")
    is_published = serializers.BooleanField(source="listing.is_published")
    nightly_price_kes = serializers.IntegerField(source="listing.nightly_price_kes", allow_null=True)
    photo_count = serializers.IntegerField()
    cover_url = serializers.SerializerMethodField()

    def get_cover_url(self, row) -> str:
        return absolute(row.cover_url)


class HostListingListSerializer(serializers.Serializer):
    results = HostListingRowSerializer(many=True)


class HostListingInputSerializer(serializers.Serializer):
    """The listing form's fields (documentation: the listing form checks them); `publish` publishes or unpublishes."""

    title = serializers.CharField(required=False, max_length=120)
    description = serializers.CharField(required=False, allow_blank=True)
    property_type = serializers.ChoiceField(required=False, choices=PropertyType.choices)
    county = serializers.CharField(required=False)
    town = serializers.CharField(required=False, max_length=80)
    max_guests = serializers.IntegerField(required=False, allow_null=True)
    bedrooms = serializers.IntegerField(required=False)
    beds = serializers.IntegerField(required=False)
    bathrooms = serializers.IntegerField(required=False)
    nightly_price_kes = serializers.IntegerField(required=False, allow_null=True)
    cleaning_fee_kes = serializers.IntegerField(required=False)
    weekly_discount_percent = serializers.IntegerField(required=False)
    monthly_discount_percent = serializers.IntegerField(required=False)
    min_nights = serializers.IntegerField(required=False)
    max_nights = serializers.IntegerField(required=False)
    advance_notice_days = serializers.IntegerField(required=False)
    same_day_cutoff_hour = serializers.IntegerField(required=False)
    check_in_time = serializers.CharField(required=False, help_text="HH:MM")
    check_out_time = serializers.CharField(required=False, help_text="HH:MM")
    house_rules = serializers.CharField(required=False, allow_blank=True)
    cancellation_policy = serializers.CharField(required=False)
    amenities = serializers.ListField(child=serializers.CharField(), required=False)
    street_address = serializers.CharField(required=False, allow_blank=True)
    directions = serializers.CharField(required=False, allow_blank=True)
    check_in_instructions = serializers.CharField(required=False, allow_blank=True)
    host_phone = serializers.CharField(required=False, allow_blank=True)
    publish = serializers.BooleanField(required=False, help_text="PATCH only: true publishes, false unpublishes.")


class PhotoUploadSerializer(serializers.Serializer):
    image = serializers.FileField()
    caption = serializers.CharField(required=False, allow_blank=True, max_length=140)


class HostNightSerializer(serializers.Serializer):
    date = serializers.DateField()
    blocked = serializers.BooleanField()
    note = serializers.CharField()
    price_kes = serializers.IntegerField(allow_null=True)
    price_overridden = serializers.BooleanField()
    min_nights = serializers.IntegerField(allow_null=True)
    booking_reference = serializers.CharField(source="booking_ref")


class HostCalendarSerializer(serializers.Serializer):
    month = serializers.CharField()
    previous_month = serializers.CharField(allow_null=True)
    next_month = serializers.CharField(allow_null=True)
    nights = HostNightSerializer(many=True)


CALENDAR_ACTIONS = ["block", "unblock", "price", "reset_price", "min_nights", "reset_min_nights"]


class CalendarChangeSerializer(serializers.Serializer):
    first_night = serializers.DateField()
    last_night = serializers.DateField(required=False)
    action = serializers.ChoiceField(choices=CALENDAR_ACTIONS)
    note = serializers.CharField(required=False, allow_blank=True, max_length=140)
    price_kes = serializers.IntegerField(required=False, min_value=1, max_value=10_000_000)
    min_nights = serializers.IntegerField(required=False, min_value=1, max_value=365)


class HostBookingGuestSerializer(serializers.Serializer):
    name = serializers.CharField(source="full_name")
    age_group = serializers.CharField()
    email = serializers.CharField(help_text="Empty until the booking is confirmed.")
    phone = serializers.CharField(help_text="Masked until the booking is confirmed.")


class HostBookingSerializer(serializers.Serializer):
    reference = serializers.CharField(source="booking.ref")
    status = serializers.ChoiceField(source="booking.status", choices=Booking.Status.choices)
    listing = serializers.CharField(source="booking.listing.slug")
    check_in = serializers.DateField(source="booking.check_in")
    check_out = serializers.DateField(source="booking.check_out")
    guest_count = serializers.IntegerField(source="booking.guest_count")
    total_kes = serializers.IntegerField(source="booking.total_kes")
    guests = HostBookingGuestSerializer(many=True)
    can_cancel = serializers.BooleanField()


class HostBookingPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = HostBookingSerializer(many=True)
