"""Bookings for their booker and linked guests: make one (with an Idempotency-Key), list them, read one, cancel
one; pay for one with M-Pesa. The trip page's selectors decide who sees what (booking_disclosure); anyone else's
booking or payment is a 404."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common import SignedIn
from api.errors import InvalidInput
from api.listings import policy
from api.serializers import (
    IDEMPOTENCY_KEY,
    BookingCreateSerializer,
    BookingListSerializer,
    BookingSerializer,
    CancelInputSerializer,
    CancelResultSerializer,
    PaymentSerializer,
    PaymentStartSerializer,
)
from api.throttling import caller_address
from core.phone import mask_phone
from listings.selectors import Stay, listing_get_for_viewer
from mpesa.selectors import payment_check_due, payment_get_for_booker, payment_latest, payment_panel
from mpesa.services import payment_check, payment_start
from reservations.selectors import booking_get_for_booker, trip_detail, trips_for_user, user_may_book
from reservations.services import GuestData, booking_cancel, booking_hold_submission

PROBLEM = OpenApiResponse(description="A problem (application/problem+json) with a machine-readable code.")
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="8 to 64 characters [A-Za-z0-9-], one per booking attempt: a repeat returns the same booking.",
)


class EmailUnverified(exceptions.PermissionDenied):
    default_detail = "Verify your e-mail address before booking: follow the link we sent, or post its key to "
    default_detail += "/_allauth/app/v1/auth/email/verify."
    default_code = "email_unverified"


def booking_data(*, user, ref: str) -> dict:
    """A booking as its viewer may read it: the trip page's selector, cut by booking_disclosure."""
    now = timezone.now()
    trip = trip_detail(user=user, ref=ref, now=now)
    booking, disclosure = trip.booking, trip.disclosure
    listing = booking.listing
    payment = None
    if disclosure.payment_details:
        panel = payment_panel(booking=booking, now=now)
        latest = payment_latest(booking=booking)
        payment = {
            "state": panel.state,
            "message": panel.message,
            "paid_kes": panel.paid_kes,
            "due_kes": panel.due_kes,
            "next_amount_kes": panel.next_amount_kes,
            "refund_due_kes": booking.refund_due_kes,
            "refunded_kes": booking.refunded_kes,
            "receipts": [receipt for receipt in panel.receipt.split(", ") if receipt],
            "latest_payment_id": latest.pk if latest else None,
        }
    private = None
    if disclosure.private_details:
        private = {
            "street_address": listing.street_address,
            "directions": listing.directions,
            "check_in_instructions": listing.check_in_instructions,
            "host_phone": listing.host_phone,
        }
    return {
        "reference": booking.ref,
        "status": booking.status,
        "listing": {"slug": listing.slug, "title": listing.title, "area": listing.area},
        "check_in": booking.check_in,
        "check_out": booking.check_out,
        "check_in_at": booking.check_in_at,
        "guest_count": booking.guest_count,
        "blocks_until": booking.blocks_until if trip.holds_nights and booking.is_unpaid else None,
        "created_at": booking.created_at,
        "confirmed_at": booking.confirmed_at,
        "cancelled_at": booking.cancelled_at,
        "is_booker": disclosure.is_booker,
        "nights": [{"date": day, "price_kes": price} for day, price in trip.night_lines],
        "nights_total_kes": booking.nights_total_kes,
        "discount_name": booking.discount_name,
        "discount_kes": booking.discount_kes,
        "cleaning_fee_kes": booking.cleaning_fee_kes,
        "total_kes": booking.total_kes,
        "cancellation_policy": policy(booking.cancellation_policy),
        "guests": trip.guests,
        "private_details": private,
        "payment": payment,
        "can_cancel": trip.can_cancel,
        "refund_if_cancelled_kes": trip.refund_due_kes if disclosure.payment_details else None,
        "events": trip.timeline,
    }


def booking_response(request, ref: str, *, status_code: int = 200) -> Response:
    return Response(BookingSerializer(booking_data(user=request.user, ref=ref)).data, status=status_code)


class BookingCollection(APIView):
    permission_classes = [SignedIn]

    @extend_schema(operation_id="bookings_list", responses=BookingListSerializer, tags=["bookings"])
    def get(self, request):
        """The bookings you made or are a linked guest on: upcoming, past, then cancelled and expired."""
        trips = trips_for_user(user=request.user)
        results = [
            {
                "reference": booking.ref,
                "status": booking.status,
                "listing": {"slug": booking.listing.slug, "title": booking.listing.title, "area": booking.listing.area},
                "check_in": booking.check_in,
                "check_out": booking.check_out,
                "guest_count": booking.guest_count,
                "is_booker": booking.booker_id == request.user.pk,
                "total_kes": booking.total_kes,
                "blocks_until": booking.blocks_until if booking.is_unpaid else None,
            }
            for booking in [*trips.upcoming, *trips.past, *trips.cancelled]
        ]
        return Response(BookingListSerializer({"results": results}).data)

    @extend_schema(
        operation_id="bookings_create",
        parameters=[IDEMPOTENCY_HEADER],
        request=BookingCreateSerializer,
        responses={201: BookingSerializer, 200: BookingSerializer, 409: PROBLEM, 422: PROBLEM, 429: PROBLEM},
        tags=["bookings"],
    )
    def post(self, request):
        """Hold a stay's nights for a group. 201 with the new booking; a repeat with the same key and body, 200
        with the same booking; the same key with another body, 422. Refusals: 409 dates_taken, 409 price_changed
        (with the new quote), 422 for stay rules (min_nights, max_guests, …), 429 limit with Retry-After."""
        if not user_may_book(user=request.user):
            raise EmailUnverified()
        key = request.headers.get("Idempotency-Key", "")
        if not IDEMPOTENCY_KEY.fullmatch(key):
            raise InvalidInput({"Idempotency-Key": ["Send an Idempotency-Key header of 8 to 64 letters, digits or -."]})
        serializer = BookingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        listing = listing_get_for_viewer(slug=data["listing"], user=request.user)
        result = booking_hold_submission(
            booker=request.user,
            listing_id=listing.pk,
            stay=Stay(check_in=data["check_in"], check_out=data["check_out"]),
            guests=[
                GuestData(
                    full_name=g["name"], email=g.get("email", ""), phone=g.get("phone", ""), age_group=g["age_group"]
                )
                for g in data["guests"]
            ],
            shown_total_kes=data["shown_total_kes"],
            idempotency_key=key,
        )
        return booking_response(
            request, result.booking.ref, status_code=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )


class BookingDetail(APIView):
    permission_classes = [SignedIn]

    @extend_schema(operation_id="bookings_detail", responses=BookingSerializer, tags=["bookings"])
    def get(self, request, reference: str):
        """A booking as the trip page shows it to you: payments and other guests' contacts for its booker only;
        the private address once confirmed, to the booker and linked guests with a verified account."""
        return booking_response(request, reference)


class BookingCancel(APIView):
    permission_classes = [SignedIn]

    @extend_schema(
        operation_id="bookings_cancel",
        request=CancelInputSerializer,
        responses={200: CancelResultSerializer, 409: PROBLEM},
        tags=["bookings"],
    )
    def post(self, request, reference: str):
        """Cancel your booking (booker only): a hold frees its nights; money paid comes back as the frozen policy
        says, recorded as the refund due in the answer."""
        booking = booking_get_for_booker(user=request.user, ref=reference)
        serializer = CancelInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        owed_before = booking.refund_due_kes
        cancelled = booking_cancel(booking=booking, user=request.user, reason=serializer.validated_data["reason"])
        data = {
            "booking": booking_data(user=request.user, ref=reference),
            "refund_due_kes": cancelled.refund_due_kes - owed_before,
        }
        return Response(CancelResultSerializer(data).data)


def payment_data(payment) -> dict:
    booking = payment.booking
    return {
        "id": payment.pk,
        "status": payment.status,
        "amount_kes": payment.amount_kes,
        "phone": mask_phone(payment.phone),
        "receipt": payment.receipt,
        "message": payment.error_message,
        "created_at": payment.created_at,
        "booking_reference": booking.ref,
        "booking_status": booking.status,
        "check_due": payment_check_due(payment=payment),
    }


class PaymentCollection(APIView):
    permission_classes = [SignedIn]

    @extend_schema(
        operation_id="payments_start",
        request=PaymentStartSerializer,
        responses={202: PaymentSerializer, 409: PROBLEM, 422: PROBLEM, 429: PROBLEM},
        tags=["payments"],
    )
    def post(self, request, reference: str):
        """Send an M-Pesa STK push for the booking's next amount due (booker only). 202: the prompt is on its way;
        follow the payment's status."""
        booking = booking_get_for_booker(user=request.user, ref=reference)
        serializer = PaymentStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = payment_start(
            booking=booking, user=request.user, phone=serializer.validated_data["phone"], ip=caller_address(request)
        )
        payment.booking.refresh_from_db(fields=["status"])
        return Response(PaymentSerializer(payment_data(payment)).data, status=status.HTTP_202_ACCEPTED)


class PaymentDetail(APIView):
    permission_classes = [SignedIn]

    @extend_schema(operation_id="payments_detail", responses=PaymentSerializer, tags=["payments"])
    def get(self, request, reference: str, payment_id: int):
        """A payment's status and its booking's (booker only). Only reads."""
        payment = payment_get_for_booker(user=request.user, ref=reference, payment_id=payment_id)
        return Response(PaymentSerializer(payment_data(payment)).data)


class PaymentCheck(APIView):
    permission_classes = [SignedIn]

    @extend_schema(operation_id="payments_check", request=None, responses=PaymentSerializer, tags=["payments"])
    def post(self, request, reference: str, payment_id: int):
        """Ask M-Pesa about a payment still pending (STK Query), at most as often as the payment panel does;
        answers the payment as it then stands."""
        payment = payment_get_for_booker(user=request.user, ref=reference, payment_id=payment_id)
        payment_check(payment=payment)
        payment = payment_get_for_booker(user=request.user, ref=reference, payment_id=payment_id)
        return Response(PaymentSerializer(payment_data(payment)).data)
