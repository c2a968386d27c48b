"""The payment panel on the trip page: who may use it, what it shows, when its polling stops."""

import datetime
from html import unescape

import pytest
import time_machine
from django.utils import timezone

from mpesa.client import StkQueryAnswer
from mpesa.models import Payment, PaymentEvent
from mpesa.services import payment_settle_query
from reservations.services import GuestData
from tests.helpers.payments import failure_callback, success_callback

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def urls(booking) -> dict:
    return {
        "status": f"/trips/{booking.ref}/payment-status/",
        "pay": f"/trips/{booking.ref}/pay/",
        "check": f"/trips/{booking.ref}/payment-check/",
        "code": f"/trips/{booking.ref}/payment-code/",
    }


def test_the_trip_page_shows_the_form_with_the_amount_due(client, guest, hold):
    booking = hold(guest, 10, 13)
    client.force_login(guest)
    html = client.get(f"/trips/{booking.ref}/").content.decode()
    assert 'id="payment-status"' in html and "Pay KES 31,500 with M-Pesa" in html
    assert 'data-payment-state="ready"' in html and 'hx-trigger="every 2s"' not in html


def test_while_waiting_for_the_pin_the_panel_polls(client, guest, pending_payment):
    payment = pending_payment()
    client.force_login(guest)
    response = client.get(urls(payment.booking)["status"], headers=HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<section id="payment-status"')
    assert 'hx-trigger="every 2s"' in html and "Check your phone (0708 ••• 149)" in unescape(html)


def test_a_final_state_stops_the_polling(client, guest, pending_payment, post_callback):
    payment = pending_payment()
    post_callback(payment, failure_callback(payment, "stk_callback_insufficient_1"))
    client.force_login(guest)
    response = client.get(urls(payment.booking)["status"], headers=HX)
    html = response.content.decode()
    assert response.status_code == 286 and "hx-trigger" not in html.split(">", 1)[0]
    assert "Not enough M-Pesa balance" in html and "Pay KES" in html
    assert "bookingChanged" in response["HX-Trigger"]


def test_confirmed_shows_the_receipt(client, guest, pending_payment, post_callback):
    payment = pending_payment()
    post_callback(payment, success_callback(payment, receipt="UKK4H7TQ2M"))
    payment_settle_query(payment_id=payment.pk, answer=StkQueryAnswer(final=True, result_code="0"))
    client.force_login(guest)
    response = client.get(urls(payment.booking)["status"], headers=HX)
    assert response.status_code == 286
    assert "UKK4H7TQ2M" in response.content.decode() and "is confirmed" in response.content.decode()


def test_a_bad_number_keeps_what_was_typed(client, guest, hold):
    booking = hold(guest, 10, 13)
    client.force_login(guest)
    response = client.post(urls(booking)["pay"], {"phone": "0712 34"}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 422 and "Enter a Kenyan mobile number" in html and 'value="0712 34"' in html
    assert not Payment.objects.exists()


def test_without_javascript_a_refused_form_comes_back_inside_the_whole_trip_page(
    client, guest, hold, pending_payment, settings
):
    unpaid = hold(guest, 20, 23)
    unknown = pending_payment()
    later = timezone.now() + datetime.timedelta(seconds=settings.MPESA_QUERY_WINDOW_SECONDS + 5)
    payment_settle_query(payment_id=unknown.pk, answer=StkQueryAnswer(final=False), now=later)
    client.force_login(guest)
    for booking, name, data, kept in (
        (unpaid, "pay", {"phone": "0712 34"}, 'value="0712 34"'),
        (unknown.booking, "code", {"code": "12"}, 'value="12"'),
    ):
        response = client.post(urls(booking)[name], data)
        html = response.content.decode()
        assert response.status_code == 422 and html.lstrip().lower().startswith("<!doctype html>")
        assert booking.ref in html and 'id="payment-status"' in html and kept in html
    assert Payment.objects.get() == unknown
    unknown.refresh_from_db()
    assert unknown.guest_code == ""


def test_unknown_payments_take_the_guest_code(client, guest, pending_payment, settings):
    payment = pending_payment()
    later = timezone.now() + datetime.timedelta(seconds=settings.MPESA_QUERY_WINDOW_SECONDS + 5)
    payment_settle_query(payment_id=payment.pk, answer=StkQueryAnswer(final=False), now=later)
    client.force_login(guest)
    html = client.get(urls(payment.booking)["status"], headers=HX).content.decode()
    assert "Support will check it" in html and "M-Pesa code from your SMS" in html
    bad = client.post(urls(payment.booking)["code"], {"code": "12"}, headers=HX)
    assert bad.status_code == 422
    good = client.post(urls(payment.booking)["code"], {"code": "ukk4h7tq2m"}, headers=HX)
    assert good.status_code == 200 and "we have your code" in good.content.decode()
    payment.refresh_from_db()
    assert payment.guest_code == "UKK4H7TQ2M"
    assert payment.events.filter(kind="guest_code").count() == 1


@pytest.mark.parametrize("name", ["status", "pay", "check", "code"])
def test_nobody_but_the_booker_reaches_the_panel(client, guest, hold, make_user, name):
    other = make_user(email="friend@example.com", full_name="Linked Friend")
    booking = hold(guest, 10, 13, guests=[GuestData(full_name="Grace"), GuestData(full_name="F", email=other.email)])
    assert booking.guests.filter(user=other).exists()  # a linked guest, not the booker
    stranger = make_user(email="stranger@example.com")
    for user in (other, stranger):
        client.force_login(user)
        method = client.get if name == "status" else client.post
        assert method(urls(booking)[name], {"phone": "0712345678", "code": "UKK4H7TQ2M"}, headers=HX).status_code == 404
    client.logout()
    method = client.get if name == "status" else client.post
    anonymous = method(urls(booking)[name], headers=HX)
    assert anonymous.status_code == 200 and anonymous["HX-Redirect"].startswith("/accounts/login/")
    assert not Payment.objects.exists()


def test_a_linked_guest_sees_no_payment_panel(client, guest, hold, make_user):
    other = make_user(email="friend@example.com")
    booking = hold(guest, 10, 13, guests=[GuestData(full_name="Grace"), GuestData(full_name="F", email=other.email)])
    client.force_login(other)
    html = client.get(f"/trips/{booking.ref}/").content.decode()
    assert 'id="payment-status"' not in html


def test_the_poll_reads_the_session_the_user_and_one_query_whatever_the_history(
    client, guest, pending_payment, post_callback, django_assert_num_queries
):
    first = pending_payment(check_in=1, check_out=3)
    client.force_login(guest)
    with django_assert_num_queries(3):  # the session, the user, the panel's one query
        response = client.get(urls(first.booking)["status"], headers=HX)
    assert response.status_code == 200 and 'hx-trigger="every 2s"' in response.content.decode()
    for _ in range(5):
        post_callback(first, failure_callback(first, "stk_callback_cancelled_1032"))
    # The same booking tries again, twice: more payments and events behind the one in flight.
    for _ in range(2):
        retry = pending_payment(booking=first.booking)
        post_callback(retry, failure_callback(retry, "stk_callback_cancelled_1032"))
    latest = pending_payment(booking=first.booking)
    pending_payment(check_in=5, check_out=8)  # another booking of the same guest
    assert first.booking.payments.count() == 4 and first.booking.events.count() > 4
    with django_assert_num_queries(3):
        response = client.get(urls(first.booking)["status"], headers=HX)
    html = response.content.decode()
    assert response.status_code == 200 and 'hx-trigger="every 2s"' in html
    assert latest.booking.ref in html and 'data-payment-state="waiting_for_pin"' in html


def test_the_panel_asks_m_pesa_only_when_a_check_is_due(client, guest, pending_payment, settings):
    payment = pending_payment()
    client.force_login(guest)
    url = urls(payment.booking)["status"]
    assert "payment-check" not in client.get(url, headers=HX).content.decode()  # too soon after the push
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - datetime.timedelta(seconds=60))
    assert "payment-check" in client.get(url, headers=HX).content.decode()
    Payment.objects.filter(pk=payment.pk).update(last_query_at=timezone.now())
    assert "payment-check" not in client.get(url, headers=HX).content.decode()  # asked a moment ago


@pytest.mark.parametrize("value", ["", "\x00", "x" * 10_000, "<script>alert(1)</script>", "😀" * 30, "0" * 40, "-1"])
def test_hostile_values_in_the_panel_forms_never_give_a_500(client, guest, hold, value):
    booking = hold(guest, 10, 13)
    client.force_login(guest)
    for name, field in (("pay", "phone"), ("code", "code")):
        response = client.post(urls(booking)[name], {field: value}, headers=HX)
        assert response.status_code in (200, 422)
        response = client.post(urls(booking)[name], {field: [value, value]})
        assert response.status_code < 500
    assert not Payment.objects.exists()


def test_a_check_that_finds_a_final_state_tells_the_trip_page(client, guest, pending_payment, post_callback):
    payment = pending_payment()
    post_callback(payment, failure_callback(payment, "stk_callback_insufficient_1"))
    client.force_login(guest)
    response = client.post(urls(payment.booking)["check"], headers=HX)
    assert response.status_code == 200  # a POST answer: htmx swaps it; only the poll stops with 286
    assert "Not enough M-Pesa balance" in response.content.decode()
    assert "bookingChanged" in response["HX-Trigger"]


def test_an_unknown_payment_keeps_the_code_form_after_the_hold_lapses(client, guest, pending_payment, settings):
    from reservations.models import Booking

    payment = pending_payment()
    later = timezone.now() + datetime.timedelta(seconds=settings.MPESA_QUERY_WINDOW_SECONDS + 5)
    payment_settle_query(payment_id=payment.pk, answer=StkQueryAnswer(final=False), now=later)
    Booking.objects.filter(pk=payment.booking_id).update(blocks_until=timezone.now() - datetime.timedelta(minutes=1))
    client.force_login(guest)
    html = client.get(urls(payment.booking)["status"], headers=HX).content.decode()
    assert "Support will check it" in html and "M-Pesa code from your SMS" in html


def test_a_failed_instalment_says_why_beside_the_balance(client, guest, pending_payment, post_callback):
    from reservations.models import Booking

    payment = pending_payment()
    Booking.objects.filter(pk=payment.booking_id).update(paid_kes=10_000)
    post_callback(payment, failure_callback(payment, "stk_callback_insufficient_1"))
    client.force_login(guest)
    html = client.get(urls(payment.booking)["status"], headers=HX).content.decode()
    assert 'data-payment-state="balance_due"' in html and "still to pay" in html
    assert "Not enough M-Pesa balance" in html


def _unknown_payment(pending_payment, **kwargs) -> Payment:
    payment = pending_payment(**kwargs)
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.UNKNOWN)
    return payment


@pytest.mark.parametrize("status", [Payment.Status.SUCCEEDED, Payment.Status.FAILED])
def test_a_settled_payment_takes_no_guest_code(client, guest, pending_payment, status):
    payment = pending_payment()
    Payment.objects.filter(pk=payment.pk).update(status=status)
    client.force_login(guest)
    response = client.post(urls(payment.booking)["code"], {"code": "UKK4H7TQ2M"}, headers=HX)
    assert response.status_code == 422 and "already settled" in response.content.decode()
    payment.refresh_from_db()
    assert payment.guest_code == "" and not payment.events.filter(kind="guest_code").exists()


def test_a_payment_takes_at_most_three_guest_codes(client, guest, pending_payment):
    payment = _unknown_payment(pending_payment)
    client.force_login(guest)
    for code in ("UKK4H7TQ2A", "UKK4H7TQ2B", "UKK4H7TQ2C"):
        assert client.post(urls(payment.booking)["code"], {"code": code}, headers=HX).status_code == 200
    refused = client.post(urls(payment.booking)["code"], {"code": "UKK4H7TQ2D"}, headers=HX)
    assert refused.status_code == 422 and "3 M-Pesa codes for this payment" in refused.content.decode()
    payment.refresh_from_db()
    assert payment.guest_code == "UKK4H7TQ2C" and payment.events.filter(kind="guest_code").count() == 3


def test_a_guest_sends_at_most_ten_codes_a_day(client, guest, pending_payment, settings):
    settings.BOOKING_MAX_UNPAID_HOLDS = 10
    midday = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    with time_machine.travel(midday, tick=False):
        payments = [_unknown_payment(pending_payment, check_in=2 * i + 1, check_out=2 * i + 2) for i in range(4)]
        client.force_login(guest)
        answers = [
            client.post(urls(payment.booking)["code"], {"code": f"UKK4H7TQ{i}{n}"}, headers=HX)
            for i, payment in enumerate(payments)
            for n in range(3)
        ]
        assert [a.status_code for a in answers] == [200] * 10 + [422] * 2
        assert "10 M-Pesa codes today" in answers[-1].content.decode()
        payments[3].refresh_from_db()
        assert payments[3].guest_code == "UKK4H7TQ30"
        assert PaymentEvent.objects.filter(kind="guest_code").count() == 10
    with time_machine.travel(midday + datetime.timedelta(days=1), tick=False):
        tomorrow = client.post(urls(payments[3].booking)["code"], {"code": "UKK4H7TQ39"}, headers=HX)
        assert tomorrow.status_code == 200


def test_while_waiting_the_panel_counts_down_to_the_prompts_expiry_and_says_what_to_do(
    client, guest, pending_payment, settings
):
    settings.MPESA_PROMPT_SECONDS = 90
    payment = pending_payment()
    client.force_login(guest)
    with time_machine.travel(payment.created_at + datetime.timedelta(seconds=25), tick=False):
        html = client.get(urls(payment.booking)["status"], headers=HX).content.decode()
    assert 'data-countdown-seconds="65"' in html and "expires in <strong data-countdown-clock>1:05</strong>" in html
    assert "No prompt on your phone?" in html
    assert "Safaricom line" in html and "SIM toolkit" in html and "phone on" in html
    with time_machine.travel(payment.created_at + datetime.timedelta(seconds=95), tick=False):
        html = client.get(urls(payment.booking)["status"], headers=HX).content.decode()
    assert "data-countdown-seconds" not in html and "The prompt on your phone has expired." in html


def test_an_unanswered_prompt_can_be_sent_again(client, guest, pending_payment, post_callback):
    payment = pending_payment()
    post_callback(payment, failure_callback(payment, "stk_callback_timeout_1037"))
    client.force_login(guest)
    html = client.get(f"/trips/{payment.booking.ref}/").content.decode()
    assert "Send the prompt again" in html and "The prompt expired without an answer." in html
    assert 'value="0708 374 149"' in html  # the number it went to, the Kenyan way


def test_a_declined_payment_offers_to_pay_not_to_resend(client, guest, pending_payment, post_callback):
    payment = pending_payment()
    post_callback(payment, failure_callback(payment, "stk_callback_insufficient_1"))
    client.force_login(guest)
    html = client.get(f"/trips/{payment.booking.ref}/").content.decode()
    assert "Send the prompt again" not in html and "Pay KES 31,500 with M-Pesa" in html


def test_at_the_push_limit_the_panel_says_when_the_next_prompt_can_be_sent(client, guest, hold, settings):
    settings.MPESA_PUSHES_PER_PHONE = 1
    settings.MPESA_PUSH_LIMIT_WINDOW_SECONDS = 600
    booking = hold(guest, 10, 13)
    now = timezone.now()
    from core.rate_limits import rate_limit_increment

    rate_limit_increment(key="push:phone:254708374149", window_seconds=600, now=now)
    guest.mpesa_phone = "254708374149"
    guest.save()
    client.force_login(guest)
    html = client.get(f"/trips/{booking.ref}/").content.decode()
    seconds = int(now.timestamp())
    window_end = datetime.datetime.fromtimestamp(seconds - seconds % 600 + 600, tz=datetime.UTC)
    expected = timezone.localtime(window_end).strftime("%H:%M")
    assert "data-next-push" in html and f"The next prompt can be sent at <strong>{expected}</strong>" in html


def test_while_m_pesa_confirms_the_panel_polls_and_the_poll_changes_nothing(
    client, guest, pending_payment, post_callback, django_assert_num_queries
):
    payment = pending_payment()
    post_callback(payment, success_callback(payment, receipt="UKK4H7TQ2M"))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.VERIFYING
    url = urls(payment.booking)["status"]
    client.force_login(guest)
    with django_assert_num_queries(3):
        response = client.get(url, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200 and "HX-Trigger" not in response
    assert html.lstrip().startswith('<section id="payment-status"') and 'hx-trigger="every 2s"' in html
    assert 'data-payment-state="verifying"' in html and "Payment received, confirming with M-Pesa…" in unescape(html)
    assert "payment-check" in html  # a verifying payment is asked about without waiting
    assert "Pay KES" not in html and "csrfmiddlewaretoken" not in html
    before = Payment.objects.values().get(pk=payment.pk)
    client.get(url, headers=HX)
    assert Payment.objects.values().get(pk=payment.pk) == before


def test_a_refund_due_stops_the_poll_whatever_the_payment_status(client, guest, pending_payment):
    payment = pending_payment()
    Payment.objects.filter(pk=payment.pk).update(
        status=Payment.Status.VERIFYING, refund_due_kes=payment.amount_kes, flag=Payment.Flag.DATES_TAKEN
    )
    client.force_login(guest)
    response = client.get(urls(payment.booking)["status"], headers=HX)
    html = response.content.decode()
    assert response.status_code == 286 and "hx-trigger" not in html.split(">", 1)[0]
    assert 'data-payment-state="refund_due"' in html and "The money will be refunded" in html
    assert "bookingChanged" in response["HX-Trigger"]


def test_a_confirmed_booking_stops_the_poll_even_with_a_payment_in_flight(client, guest, pending_payment):
    from reservations.models import Booking

    payment = pending_payment()
    Booking.objects.filter(pk=payment.booking_id).update(status=Booking.Status.CONFIRMED, blocks_until=None)
    client.force_login(guest)
    response = client.get(urls(payment.booking)["status"], headers=HX)
    assert response.status_code == 286 and "is confirmed" in response.content.decode()
    assert "bookingChanged" in response["HX-Trigger"]


def test_someone_elses_payment_in_flight_is_a_404(client, guest, pending_payment, make_user):
    payment = pending_payment()
    for stranger in (make_user(email="stranger@example.com"), make_user(email="other@example.com", is_staff=True)):
        client.force_login(stranger)
        response = client.get(urls(payment.booking)["status"], headers=HX)
        assert response.status_code == 404 and b"payment-status" not in response.content
    client.force_login(guest)
    assert (
        client.get(urls(payment.booking)["status"].replace(payment.booking.ref, "NX-NOSUCH"), headers=HX).status_code
        == 404
    )
