from allauth.account.signals import email_confirmed
from django.dispatch import receiver

from reservations.services import booking_guests_link_account


@receiver(email_confirmed)
def link_guest_rows_on_verification(sender, request, email_address, **kwargs) -> None:
    """A person who verifies an address sees the trips they were added to as a guest."""
    booking_guests_link_account(user=email_address.user, email=email_address.email)
