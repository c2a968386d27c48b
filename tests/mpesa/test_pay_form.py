"""The M-Pesa form: which number it offers, and numbers M-Pesa cannot prompt (another network's, another
country's) told before anything is pushed."""

import pytest

from daraja_emulator import dispatcher
from mpesa.models import Payment
from tests.daraja import use_emulator
from tests.helpers.bookings import booking_for

HX = {"HX-Request": "true"}


def _trip(client, booking) -> str:
    return client.get(f"/trips/{booking.ref}/").content.decode()


@pytest.mark.django_db
def test_the_form_offers_the_last_paid_number_else_the_verified_one(client, make_phone_user, host):
    payer = make_phone_user(phone="+254722000111")
    booking = booking_for(payer, host)
    client.force_login(payer)
    assert 'value="0722 000 111"' in _trip(client, booking)
    payer.mpesa_phone = "254708374149"  # the number of a counted payment
    payer.save(update_fields=["mpesa_phone"])
    assert 'value="0708 374 149"' in _trip(client, booking)


@pytest.mark.django_db
def test_a_visitors_number_is_not_offered_and_an_airtel_one_is_with_the_rule(client, make_phone_user, host):
    visitor = make_phone_user(phone="+447700900123")
    booking = booking_for(visitor, host)
    client.force_login(visitor)
    html = _trip(client, booking)
    assert 'name="phone"' in html and "447700900123" not in html

    airtel = make_phone_user(phone="+254733123456", full_name="Amani")
    booking = booking_for(airtel, host)
    client.force_login(airtel)
    html = _trip(client, booking)
    assert 'value="0733 123 456"' in html and "M-Pesa prompts go to Safaricom numbers" in html


@pytest.mark.django_db
@pytest.mark.parametrize("number", ["+44 7700 900123", "+1 202 555 0143"])
def test_another_countrys_number_is_told_the_rule_and_nothing_is_pushed(client, guest, host, number):
    booking = booking_for(guest, host)
    client.force_login(guest)
    response = client.post(f"/trips/{booking.ref}/pay/", {"phone": number}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 422 and "M-Pesa prompts go to Safaricom numbers" in html
    assert not Payment.objects.exists()


@pytest.fixture
def emulated_daraja(settings, live_server):
    use_emulator(settings, live_server)
    yield
    dispatcher.stop()


@pytest.mark.django_db(transaction=True)
def test_an_airtel_number_is_pushed_to_only_when_sent_again_after_the_rule(client, make_user, emulated_daraja):
    guest = make_user(email="guest@example.com")
    booking = booking_for(guest, make_user(email="host@example.com"))
    client.force_login(guest)
    response = client.post(f"/trips/{booking.ref}/pay/", {"phone": "0733 123 456"}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 422
    assert "M-Pesa prompts go to Safaricom numbers. 0733 ••• 456 looks like another network" in html
    assert 'name="confirmed_phone" value="254733123456"' in html
    assert not Payment.objects.exists()

    # The same number sent again (the page carries the warned number): M-Pesa decides.
    response = client.post(
        f"/trips/{booking.ref}/pay/", {"phone": "0733 123 456", "confirmed_phone": "254733123456"}, headers=HX
    )
    assert response.status_code == 200
    assert Payment.objects.get().phone == "254733123456"


@pytest.mark.django_db
def test_a_changed_number_after_the_warning_is_checked_again(client, guest, host):
    booking = booking_for(guest, host)
    client.force_login(guest)
    response = client.post(
        f"/trips/{booking.ref}/pay/", {"phone": "0770 123 456", "confirmed_phone": "254733123456"}, headers=HX
    )
    assert response.status_code == 422 and "M-Pesa prompts go to Safaricom numbers" in response.content.decode()
    assert not Payment.objects.exists()
