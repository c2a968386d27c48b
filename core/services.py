from django.db import transaction

from core.models import User


@transaction.atomic
def user_update_profile(*, user: User, full_name: str, mpesa_phone: str) -> User:
    """Save a person's name and M-Pesa number (already cleaned by the form)."""
    user.full_name = full_name
    user.mpesa_phone = mpesa_phone
    user.full_clean(exclude=["password"])
    user.save(update_fields=["full_name", "mpesa_phone"])
    return user


def user_remember_mpesa_phone(*, user: User, phone: str) -> None:
    """A verified M-Pesa payment came from `phone` (normalised): it becomes the account's M-Pesa number, the one the
    payment form offers next time and its messages are texted to."""
    if phone and user.mpesa_phone != phone:
        user.mpesa_phone = phone
        User.objects.filter(pk=user.pk).update(mpesa_phone=phone)
