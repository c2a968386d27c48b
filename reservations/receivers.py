from allauth.account.signals import email_confirmed
from django.dispatch import receiver

from core.signals import phone_verified
from reservations.services import booking_guests_link_account, booking_guests_link_phone


@receiver(email_confirmed)
def link_guest_rows_on_verification(sender, request, email_address, **kwargs) -> None:
    """A person who verifies an address sees the trips they were added to as a guest."""
    booking_guests_link_account(user=email_address.user, email=email_address.email)


@receiver(phone_verified)
def link_guest_rows_on_phone_verification(sender, user, phone, others_verified_before, **kwargs) -> None:
    """A person who verifies a number sees the upcoming trips they were added to with it since it became theirs."""
    booking_guests_link_phone(user=user, phone=phone, others_verified_before=others_verified_before)
