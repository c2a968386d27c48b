"""Where a person's messages go: the one place that decides a user's SMS number."""

from django.core.exceptions import ValidationError

from core.africastalking_wire import e164
from core.models import User
from core.phone import normalise_phone
from notifications.models import NotificationPreference


def sms_number_for(user: User | None) -> str:
    """The number to text this account at, as E.164 (+2547XXXXXXXX), or "" when there is none.

    Today it is the number the account last paid with on M-Pesa (`User.mpesa_phone`: a successful payment writes it
    there, and the M-Pesa PIN proved the payer holds that phone); once phone sign-in exists it is the verified number.
    """
    if user is None or not user.pk or not user.is_active or not user.mpesa_phone:
        return ""
    try:
        return e164(normalise_phone(user.mpesa_phone))
    except ValidationError:
        return ""


def preferences_for(user: User | None) -> NotificationPreference:
    """The account's message preferences (an unsaved default when it never chose)."""
    if user is None or not user.pk:
        return NotificationPreference()
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


def language_for(user: User | None) -> str:
    """The language the account reads its messages in: "en" or "sw"."""
    return preferences_for(user).language


def sms_wanted(user: User | None, kind: str) -> bool:
    """False when the account switched this kind of SMS off. A number with no account gets only what it asked for."""
    return kind not in preferences_for(user).sms_off
