import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core.models import PhoneVerification, User
from core.phone import kenyan_part
from core.signals import phone_verified


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


@transaction.atomic
def user_phone_set(*, user: User, phone: str) -> User:
    """Attach a number (E.164, from core.phone.normalise_mobile) to an account, not yet verified: it is no identity
    until a code sent to it comes back (user_phone_verify)."""
    user.phone = phone
    user.phone_verified = False
    user.save(update_fields=["phone", "phone_verified"])
    return user


@transaction.atomic
def user_phone_verify(*, user: User, phone: str, now: datetime.datetime | None = None) -> User:
    """Record that `user` holds `phone` now (a code sent to it came back). Numbers are recycled: any other account
    that had this number loses it. Sends core.signals.phone_verified once this account holds the number."""
    now = now or timezone.now()
    # Locked in id order, so that two verifications of one number wait for each other instead of deadlocking.
    holders = list(User.objects.select_for_update().filter(phone=phone).exclude(pk=user.pk).order_by("pk"))
    for holder in holders:
        holder.phone = ""
        holder.phone_verified = False
        if holder.mpesa_phone and holder.mpesa_phone == kenyan_part(phone):
            holder.mpesa_phone = ""  # nor is it theirs to be texted or prompted at
        holder.save(update_fields=["phone", "phone_verified", "mpesa_phone"])
    others_verified_before = (
        PhoneVerification.objects.filter(phone=phone).exclude(user=user).aggregate(last=Max("verified_at"))["last"]
    )
    user.phone = phone
    user.phone_verified = True
    user.save(update_fields=["phone", "phone_verified"])
    PhoneVerification.objects.create(phone=phone, user=user, verified_at=now)
    phone_verified.send(sender=User, user=user, phone=phone, others_verified_before=others_verified_before)
    return user
