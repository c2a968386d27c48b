"""The search column behind the console's name search: written when a payment starts, rewritten when a booker's
name or e-mail address or a listing's title changes, whichever page changed it, and filled in for old payments."""

import importlib

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client

from core.models import User
from listings.models import Listing
from listings.services import listing_update
from mpesa.client import Exchange, StkPushAccepted
from mpesa.models import Payment
from mpesa.search_text import booking_search_texts, payment_search_text_refresh, search_normalise
from mpesa.services import payment_start
from reservations.services import GuestData
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def signed_in(user) -> Client:
    """A browser of its own (the agent's client stays signed in as the agent)."""
    browser = Client()
    browser.force_login(user)
    return browser


def found(client, query: str) -> set[int]:
    response = client.get("/support/", {"q": query}, headers=HX)
    assert response.status_code == 200, response.content
    return {row.pk for row in response.context["results"].rows}


@pytest.fixture
def booked(make_user, host, hold, pending_payment):
    """Zawadi books Lamu for herself and Juma; one payment."""
    zawadi = make_user(email="zawadi@example.com", full_name="Zawadi Mwende")
    lamu = make_listing(host, title="Lamu rooftop house", slug="lamu-rooftop")
    booking = hold(
        zawadi,
        3,
        5,
        listing_obj=lamu,
        guests=[GuestData(full_name="Zawadi Mwende", email="zawadi@example.com"), GuestData(full_name="Juma Ali")],
    )
    return {"booker": zawadi, "listing": lamu, "booking": booking, "payment": pending_payment(booking=booking)}


def test_names_are_lower_case_without_accents_and_single_spaced():
    assert search_normalise("  Zoë   NJERI\t") == "zoe njeri"
    assert search_normalise("Ñjoki O'NEILL") == "njoki o'neill"
    assert search_normalise("STRASSE Straße") == "strasse strasse"


def test_a_started_payment_carries_the_booker_the_guests_and_the_title(booked, guest, hold, monkeypatch):
    class Daraja:
        def stk_push(self, **kwargs):
            return StkPushAccepted("29115-34620561-1", "ws_CO_191220191020363925", Exchange("/stkpush", {}, 200, {}))

    monkeypatch.setattr("mpesa.client.daraja", Daraja)
    booking = hold(guest, 10, 12, guests=[GuestData(full_name="Grace Guest"), GuestData(full_name="Émile Ndegé")])
    payment = payment_start(booking=booking, user=guest, phone="0708374149")
    payment.refresh_from_db()
    # the booker's own guest row repeats their name: it is written once; one line each, none blank
    assert payment.search_text.split("\n") == [
        "grace guest",
        "guest@example.com",
        search_normalise(booking.listing.title),
        "emile ndege",
    ]


def test_accents_and_case_do_not_matter_to_the_search(agent_client, booked, make_user, hold, host):
    other = make_user(email="chloe@example.com", full_name="Chloé Wairimu")
    payment = booked["payment"]
    assert found(agent_client, "JUMA ali") == {payment.pk}
    assert found(agent_client, "  rooftop   HOUSE ") == {payment.pk}
    assert other  # no booking, no payment: never found
    assert found(agent_client, "chloe") == set()


def test_a_fragment_never_spans_two_names(agent_client, booked):
    # "mwende" ends the booker's name and "zawadi@" starts her address: together they are no one's name
    assert found(agent_client, "mwende zawadi") == set()


def test_a_booker_renamed_on_the_profile_page_is_found_by_the_new_name(agent_client, booked):
    payment, booker = booked["payment"], booked["booker"]
    assert found(agent_client, "wanjiru") == set()
    response = signed_in(booker).post("/accounts/profile/", {"full_name": "Zawadi Wanjiru", "mpesa_phone": ""})
    assert response.status_code in (200, 302), response.content
    assert User.objects.get(pk=booker.pk).full_name == "Zawadi Wanjiru"
    assert found(agent_client, "zawadi wanjiru") == {payment.pk}


def test_a_new_primary_address_chosen_through_allauth_is_found(agent_client, booked):
    payment, booker = booked["payment"], booked["booker"]
    EmailAddress.objects.create(user=booker, email="z.mwende@example.net", verified=True, primary=False)
    response = signed_in(booker).post("/accounts/email/", {"action_primary": "", "email": "z.mwende@example.net"})
    assert response.status_code in (200, 302), response.content
    assert User.objects.get(pk=booker.pk).email == "z.mwende@example.net"
    assert found(agent_client, "mwende@example.net") == {payment.pk}


def test_a_name_changed_in_the_admin_is_found(agent_client, booked, make_user):
    payment, booker = booked["payment"], booked["booker"]
    admin = make_user(email="root@example.com", full_name="Root", is_staff=True, is_superuser=True)
    response = signed_in(admin).post(
        f"/admin/core/user/{booker.pk}/change/",
        {
            "email": booker.email,
            "full_name": "Zawadi Achieng",
            "mpesa_phone": "",
            "is_active": "on",
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": booker.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": booker.date_joined.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert found(agent_client, "zawadi achieng") == {payment.pk}


def test_a_retitled_listing_is_found_by_its_new_title_only(agent_client, booked):
    payment, lamu = booked["payment"], booked["listing"]
    Listing.objects.filter(pk=lamu.pk).update(is_published=False)  # it has no photos, which publishing needs
    listing_update(listing=lamu, fields={"title": "Shela beach villa"})
    assert found(agent_client, "shela beach") == {payment.pk}
    assert found(agent_client, "rooftop") == set()


def test_saving_a_listing_or_a_person_without_a_new_name_rewrites_nothing(booked, django_assert_num_queries):
    lamu = Listing.objects.get(pk=booked["listing"].pk)
    with django_assert_num_queries(2):  # the title before, the listing's own UPDATE: no payment read
        lamu.save()
    booker = User.objects.get(pk=booked["booker"].pk)
    booker.user_permissions.add(Permission.objects.get(codename="view_transactions"))
    with django_assert_num_queries(1):  # last_login, say: the name is not even read
        booker.save(update_fields=["last_login"])


def test_a_guest_row_keeps_the_name_given_when_the_booker_is_renamed(agent_client, booked):
    payment, booker = booked["payment"], booked["booker"]
    signed_in(booker).post("/accounts/profile/", {"full_name": "Zawadi Otieno", "mpesa_phone": ""})
    # the booker's guest row still says Zawadi Mwende: what the booking was made with
    assert found(agent_client, "zawadi mwende") == {payment.pk}
    assert found(agent_client, "zawadi otieno") == {payment.pk}


def test_refresh_rewrites_only_what_is_stale(booked):
    payment, booker = booked["payment"], booked["booker"]
    assert payment_search_text_refresh(payments=Payment.objects.filter(pk=payment.pk)) == 0
    User.objects.filter(pk=booker.pk).update(full_name="Zawadi Njeri")  # bypasses the receivers
    assert payment_search_text_refresh(payments=Payment.objects.filter(pk=payment.pk)) == 1
    assert "zawadi njeri" in Payment.objects.get(pk=payment.pk).search_text.split("\n")


def test_the_migration_fills_in_the_payments_made_before_the_column(booked, pending_payment, hold, guest):
    from django.apps import apps

    second = pending_payment(booking=hold(guest, 20, 22))
    expected = booking_search_texts(booking_ids=[booked["booking"].pk, second.booking_id])
    Payment.objects.update(search_text="")
    migration = importlib.import_module("mpesa.migrations.0007_payment_search_text")

    class SchemaEditor:  # what the migration's function uses of one
        def __init__(self):
            self.connection = connection

        def quote_name(self, name):
            return connection.ops.quote_name(name)

        def execute(self, sql, params=()):
            with connection.cursor() as cursor:
                cursor.execute(sql, params)

    migration.fill_search_text(apps, SchemaEditor())
    texts = dict(Payment.objects.values_list("booking_id", "search_text"))
    assert texts == expected and all(texts.values())


@pytest.mark.postgres
def test_the_search_column_has_a_trigram_index():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "mpesa_payment")
    assert constraints["payment_search_trgm"]["type"] == "gin"
    assert constraints["payment_search_trgm"]["columns"] == ["search_text"]


def test_payments_newest_first_come_from_one_index_that_carries_the_search_column():
    """The name search filters the entries of (created_at, id) newest first; PostgreSQL reads search_text from the
    index itself (INCLUDE), SQLite from the table."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "mpesa_payment")
    assert constraints["payment_created_search"]["columns"][:2] == ["created_at", "id"]
    assert "payment_created" not in constraints
