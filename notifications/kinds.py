"""The kinds of message the site sends by SMS, as a person may switch them on and off. All are transactional:
nothing promotional is ever sent."""

from django.utils.translation import gettext_lazy as _

SMS_KINDS = {
    "hold_created": _("Dates held for you: what to pay and by when"),
    "payment_failed": _("An M-Pesa payment did not go through"),
    "instalment_due": _("Part paid: the rest and when it is due"),
    "booking_confirmed": _("A booking is confirmed (yours, one you are a guest on, or one at your place)"),
    "checkin_reminder": _("The day before check-in: the address and times"),
    "booking_cancelled": _("A booking is cancelled"),
    "refund_due": _("Money is due back to you"),
    "refunded": _("A refund is on its way to your M-Pesa"),
}
