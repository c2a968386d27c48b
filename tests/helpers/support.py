"""Support staff as the console expects them (with TOTP), unmatched callbacks, and the console forms' keys."""

import datetime

from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from mpesa.client import new_token
from mpesa.models import PaymentEvent

AGENT_PERMISSIONS = ["view_transactions", "query_mpesa", "request_refund", "resolve_exception", "export_transactions"]


def with_second_factor(user):
    """Support accounts have a TOTP authenticator (required by the console when DEBUG is off)."""
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "not-used-in-tests"})
    return user


def support_user(make_user, *, email: str, full_name: str, approves: bool = False):
    """A member of the support group (all console permissions but approving refunds), with TOTP set up."""
    group, _ = Group.objects.get_or_create(name="support")
    group.permissions.set(Permission.objects.filter(content_type__app_label="mpesa", codename__in=AGENT_PERMISSIONS))
    user = make_user(email=email, full_name=full_name)
    user.groups.add(group)
    if approves:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="mpesa", codename="approve_refund"))
    return with_second_factor(user)


def unmatched_callback(*, body: str = '{"Body": {}}') -> PaymentEvent:
    return PaymentEvent.objects.create(
        kind=PaymentEvent.Kind.UNMATCHED,
        message="Callback for a token we do not know.",
        raw_body=body,
        path_token=new_token(),
        created_at=timezone.now() - datetime.timedelta(minutes=1),
    )


def key(n: int = 1) -> str:
    return f"form-key-{n:08d}"
