"""Sessions and the signed-in person, read on every request: Django's database sessions with the read compiled
once (core.sessions) and ModelBackend's person read compiled once (core.permissions.PermissionBackend.get_user).
What a visitor sees must be what Django's own reads give: signed in while the session lives, signed out when it
expires, is deleted or names an account that can no longer sign in."""

import datetime
import re

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from core.models import User
from core.permissions import PermissionBackend
from core.sessions import SessionStore
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def _signed_in(client) -> bool:
    return client.get(reverse("profile")).status_code == 200


def test_sessions_read_as_django_reads_them_live_expired_and_unknown():
    live = SessionStore()
    live["basket"] = "3 nights"
    live.create()
    expired = SessionStore()
    expired["basket"] = "gone"
    expired.create()
    Session.objects.filter(pk=expired.session_key).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    for key in (live.session_key, expired.session_key, "no-such-session-key-at-all", "short", None):
        ours, django = SessionStore(key), DjangoSessionStore(key)
        assert ours.load() == django.load(), key
        assert ours.session_key == django.session_key, key
    assert SessionStore(live.session_key).load() == {"basket": "3 nights"}
    assert SessionStore(expired.session_key).load() == {}


def test_a_visitor_stays_signed_in_until_the_session_expires(client, user):
    client.force_login(user)
    assert _signed_in(client)
    assert _signed_in(client)  # the second read runs the compiled query
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    assert not _signed_in(client)


def test_signing_out_ends_the_session_for_every_later_request(client, user):
    client.force_login(user)
    assert _signed_in(client)
    client.post(reverse("account_logout"))
    assert not _signed_in(client)


def test_the_person_reads_as_model_backend_reads_them(make_user):
    active = make_user(email="active@example.com")
    inactive = make_user(email="inactive@example.com", is_active=False)
    for user_id in (active.pk, inactive.pk, 987_654_321):
        ours, django = PermissionBackend().get_user(user_id), ModelBackend().get_user(user_id)
        assert ours == django, user_id
        if ours is not None:
            assert [(f.name, f.value_from_object(ours)) for f in User._meta.concrete_fields] == [
                (f.name, f.value_from_object(django)) for f in User._meta.concrete_fields
            ]
    assert PermissionBackend().get_user(active.pk) == active
    assert PermissionBackend().get_user(inactive.pk) is None


def test_a_person_made_inactive_or_renamed_is_seen_so_on_the_next_request(client, user):
    client.force_login(user, backend="core.permissions.PermissionBackend")
    assert _signed_in(client)
    User.objects.filter(pk=user.pk).update(full_name="Amani Wekesa")
    assert "Amani" in client.get(reverse("profile")).content.decode()
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert not _signed_in(client)


def test_a_sign_in_by_code_names_our_backend_in_the_session(client, make_phone_user):
    """A code sign-in signs the person in through allauth's adapter, which no backend's authenticate() ran for: the
    session names the backend whose person read is compiled, so every later request takes it."""
    make_phone_user(phone="+254712345678")
    client.post(reverse("account_request_login_code"), {"phone": "0712 345 678"})
    sms = Notification.objects.filter(channel="sms", kind="phone_code").latest("pk")
    code = re.search(r"\b(\d{6})\b", sms.body).group(1)
    assert client.post(reverse("account_confirm_login_code"), {"code": code}).status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == "core.permissions.PermissionBackend"
    assert _signed_in(client)
