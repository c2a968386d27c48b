"""Row locks on payments and refunds, in the one lock order: (the booker) → listing → booking → payment → refund.

reservations.services.booking_lock takes the listing and the booking; payment_lock adds the payment after them and
refund_lock the refund after that. payment_row_lock takes the payment's row alone, for a change that touches no
booking. Call each inside transaction.atomic; a caller that holds the locks passes the locked rows on rather than
locking again.
"""

from dataclasses import dataclass

from mpesa.models import Payment, Refund
from reservations.models import Booking
from reservations.services import booking_lock


@dataclass(frozen=True)
class LockedPayment:
    booking: Booking
    payment: Payment


@dataclass(frozen=True)
class LockedRefund:
    booking: Booking
    payment: Payment
    refund: Refund


def payment_lock(*, payment_id: int, booking_id: int | None = None) -> LockedPayment:
    """Lock the payment's listing and booking, then the payment. `booking_id` is the payment's booking when the caller
    already knows it (a payment never changes booking), which saves a read. The payment's `booking` is the locked
    booking row."""
    if booking_id is None:
        booking_id = Payment.objects.values_list("booking_id", flat=True).get(pk=payment_id)
    booking = booking_lock(booking_id=booking_id)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    payment.booking = booking
    return LockedPayment(booking=booking, payment=payment)


def refund_lock(*, refund_id: int) -> LockedRefund:
    """Lock the refund's listing, booking and payment (payment_lock), then the refund. The refund's `booking` is the
    locked booking row."""
    payment_id, booking_id = Refund.objects.values_list("payment_id", "booking_id").get(pk=refund_id)
    locked = payment_lock(payment_id=payment_id, booking_id=booking_id)
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    refund.booking = locked.booking
    return LockedRefund(booking=locked.booking, payment=locked.payment, refund=refund)


def payment_row_lock(*, payment_id: int) -> Payment:
    """Lock the payment's row alone, for a change that moves no booking (a success callback moving it to verifying,
    the query throttle, a guest's code, the console's audit row). Lock no booking after it: that breaks the order."""
    return Payment.objects.select_for_update().get(pk=payment_id)


def payments_in_flight_lock(*, booking: Booking) -> bool:
    """Whether a payment of the booking is in flight, its row locked. The caller holds the booking lock."""
    return Payment.objects.select_for_update().filter(booking=booking, status__in=Payment.IN_FLIGHT).exists()
