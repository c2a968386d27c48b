"""The Django admin shows bookings, payments and their event tables, and changes none of them."""

import pytest

from mpesa.models import PaymentEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, make_user):
    client.force_login(make_user(email="root@example.com", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "model", ["reservations/booking", "reservations/bookingevent", "mpesa/payment", "mpesa/paymentevent"]
)
def test_records_are_listed_but_cannot_be_added(superuser_client, model):
    assert superuser_client.get(f"/admin/{model}/").status_code == 200
    assert superuser_client.get(f"/admin/{model}/add/").status_code == 403


def test_a_booking_opens_read_only_with_its_events(superuser_client, hold, guest):
    booking = hold(guest, 10, 13)
    page = superuser_client.get(f"/admin/reservations/booking/{booking.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and booking.ref in html and "Dates held" in html
    assert 'name="_save"' not in html
    response = superuser_client.post(f"/admin/reservations/booking/{booking.pk}/change/", {"status": "confirmed"})
    assert response.status_code == 403
    booking.refresh_from_db()
    assert booking.status == "held"
    assert (
        superuser_client.post(f"/admin/reservations/booking/{booking.pk}/delete/", {"post": "yes"}).status_code == 403
    )


def test_ledger_entries_cannot_be_deleted(superuser_client, pending_payment, post_callback):
    payment = pending_payment()
    post_callback(payment, {"Body": {}})
    event = PaymentEvent.objects.first()
    assert superuser_client.post(f"/admin/mpesa/paymentevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert PaymentEvent.objects.filter(pk=event.pk).exists()


def test_listing_photos_and_calendar_nights_are_not_added_in_the_admin(superuser_client, listing):
    assert superuser_client.get(f"/admin/listings/listing/{listing.pk}/change/").status_code == 200
    assert superuser_client.get("/admin/listings/calendarday/add/").status_code == 403
    html = superuser_client.get(f"/admin/listings/listing/{listing.pk}/change/").content.decode()
    assert 'name="photos-__prefix__-image"' not in html
