"""A payment's status: the one way it changes, and the words a guest reads for each M-Pesa result code."""

from django.utils.translation import gettext as _

from mpesa.models import Payment

# What a guest reads for each M-Pesa result code (decisions use the code, never M-Pesa's description).
RESULT_MESSAGES = {
    "1": "Not enough M-Pesa balance. Top up and try again.",
    "2": "M-Pesa declined the amount as below its minimum.",
    "3": "M-Pesa declined the amount as above its maximum.",
    "4": "This would pass your M-Pesa daily limit.",
    "17": "M-Pesa refused a repeat of the same payment so soon. Wait two minutes and try again.",
    "26": "M-Pesa is busy. Please try again in a minute.",
    "1001": "Your phone already has an M-Pesa request open. Finish it, then try again.",
    "1019": "The M-Pesa request expired before it was completed. Try again.",
    "1025": "M-Pesa could not send the prompt to your phone. Try again.",
    "1032": "You cancelled the request on your phone.",
    "1036": "Your phone could not be reached. Check it is on and try again.",
    "1037": "Your phone did not answer — try again.",
    "2001": "Wrong PIN. Try again.",
    "8006": "Your M-Pesa PIN is locked. Contact Safaricom, then try again.",
}


class PaymentError(Exception):
    """A payment could not be started or changed. The message is safe to show.

    `code` names the refusal for machines (the API answers with it; pages show only the message): "invalid_phone",
    "limit" (with `retry_after` seconds), "not_allowed", "payment_in_progress", "not_awaiting_payment",
    "nothing_due", "mpesa_refused", "invalid_transition" or "refused".
    """

    def __init__(self, message: str, *, code: str = "refused", retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retry_after = retry_after


def payment_set_status(payment: Payment, to_status: str) -> None:
    """The one way a payment's status changes: Payment.TRANSITIONS decides. The caller saves, with its own fields."""
    if payment.status == to_status:
        return
    if not payment.can_move_to(to_status):
        raise PaymentError(
            _("Payment {id} cannot go from {old} to {new}.").format(
                id=payment.pk, old=payment.get_status_display(), new=Payment.Status(to_status).label
            ),
            code="invalid_transition",
        )
    payment.status = to_status


def result_message(code: str) -> str:
    return _(RESULT_MESSAGES.get(code, "M-Pesa could not complete the payment. Try again."))
