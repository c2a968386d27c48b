import pytest

from core.models import User
from notifications.recipients import sms_number_for

pytestmark = pytest.mark.django_db


def test_the_sms_number_is_the_accounts_mpesa_number_in_e164(make_user):
    assert sms_number_for(make_user(email="a@example.com", mpesa_phone="254712345678")) == "+254712345678"
    assert sms_number_for(make_user(email="b@example.com", mpesa_phone="")) == ""
    assert sms_number_for(make_user(email="c@example.com", mpesa_phone="0712")) == ""  # not a number (old data)
    assert sms_number_for(make_user(email="d@example.com", mpesa_phone="254712345678", is_active=False)) == ""
    assert sms_number_for(None) == ""


def test_a_counted_payment_makes_the_number_that_paid_the_bookers(guest, paid_payment):
    User.objects.filter(pk=guest.pk).update(mpesa_phone="254722000111")
    paid_payment(phone="254711222333")
    guest.refresh_from_db()
    assert guest.mpesa_phone == "254711222333" and sms_number_for(guest) == "+254711222333"
