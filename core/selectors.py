"""Reads about accounts."""

from allauth.account.models import EmailAddress

from core.models import User


def user_email_verified(*, user: User) -> bool:
    """Whether the account's own address (allauth's record of it) is verified."""
    if not user.email:
        return False
    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()
