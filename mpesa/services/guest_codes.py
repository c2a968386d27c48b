"""The M-Pesa code a guest types from their SMS, kept for support to verify."""

from django.db import transaction
from django.utils.translation import gettext as _

from core.models import User
from core.rate_limits import rate_limit_increment
from mpesa.ledger import ledger_write
from mpesa.locks import payment_row_lock
from mpesa.models import Payment, PaymentEvent
from mpesa.services.status import PaymentError

Kind = PaymentEvent.Kind
GUEST_CODES_PER_PAYMENT = 3
GUEST_CODES_PER_USER_A_DAY = 10


def payment_record_guest_code(*, payment: Payment, user: User, code: str) -> Payment:
    """Keep the M-Pesa code a guest typed from their SMS, for support to verify. Raises PaymentError."""
    code = code.strip().upper()
    if len(code) != 10 or not code.isalnum() or not code.isascii():
        raise PaymentError(_("An M-Pesa code has 10 letters and digits, e.g. UKK4H7TQ2M."))
    with transaction.atomic():
        payment = payment_row_lock(payment_id=payment.pk)
        if payment.booking.booker_id != user.pk:
            raise PaymentError(_("Only the person who made the booking can do this."))
        if payment.status not in Payment.UNSETTLED:
            raise PaymentError(_("This payment is already settled: M-Pesa has told us how it ended."))
        # Counted under the payment's lock, from the codes kept: exact however many arrive at once.
        if payment.events.filter(kind=Kind.GUEST_CODE).count() >= GUEST_CODES_PER_PAYMENT:
            raise PaymentError(
                _("You have sent {count} M-Pesa codes for this payment. Support will check them.").format(
                    count=GUEST_CODES_PER_PAYMENT
                )
            )
        # Counted inside this transaction, so a refused code is not counted.
        if rate_limit_increment(key=f"guest-codes:user:{user.pk}", window_seconds=86_400) > GUEST_CODES_PER_USER_A_DAY:
            raise PaymentError(
                _("You have sent {count} M-Pesa codes today. Please try again tomorrow.").format(
                    count=GUEST_CODES_PER_USER_A_DAY
                )
            )
        payment.guest_code = code
        payment.save(update_fields=["guest_code", "updated_at"])
        ledger_write(payment, Kind.GUEST_CODE, f"The guest typed the M-Pesa code {code}.", body={"code": code})
    return payment
