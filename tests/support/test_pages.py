"""The attention and payment pages: each item says why, the timeline merges every source in order with raw
bodies, polling stops when nothing is awaited, and the query count stays the same as data grows."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mpesa.models import Payment
from support.services import payment_query_status, refund_request
from tests.helpers.payments import reversal_success, success_callback
from tests.helpers.support import support_user, unmatched_callback
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def flagged(pending_payment, booking, flag="", **fields):
    payment = pending_payment(booking=booking)
    Payment.objects.filter(pk=payment.pk).update(flag=flag, **fields)
    return payment


def test_attention_lists_each_item_with_why(
    agent_client, lead, make_user, host, hold, pending_payment, paid_payment, daraja
):
    def booking():
        user = make_user(email=f"g{Payment.objects.count()}@example.com")
        return hold(user, 3, 5, listing_obj=make_listing(host))

    flagged(pending_payment, booking(), Payment.Flag.AMOUNT_MISMATCH, status=Payment.Status.UNKNOWN)
    flagged(pending_payment, booking(), Payment.Flag.RECEIPT_REUSED, status=Payment.Status.UNKNOWN)
    flagged(pending_payment, booking(), status=Payment.Status.UNKNOWN, guest_code="UKL9Z8Y7X6")
    flagged(pending_payment, booking(), Payment.Flag.OVERPAID, status=Payment.Status.SUCCEEDED, refund_due_kes=900)
    flagged(pending_payment, booking(), Payment.Flag.OVERPAID, status=Payment.Status.SUCCEEDED)  # refunded: gone
    unmatched_callback()
    paid = paid_payment()
    refund_request(actor=lead, payment_id=paid.pk, amount_kes=25_000, method="reversal", reason="Host", key="k" * 9)
    html = agent_client.get("/support/attention/").content.decode()
    for why in [
        "Amount differs from the request",
        "Receipt already used on another payment",
        "The guest typed the M-Pesa code UKL9Z8Y7X6",
        "No verdict from M-Pesa after the query window",
        "Overpaid: refund due (900 KES)",
        "Callback with an unknown token",
        "Refund of 25,000 KES awaiting a second agent&#x27;s approval",
    ]:
        assert why in html, why
    assert html.count('data-item="payment-') == 4
    assert "Approve refund" not in html  # the agent may not approve


def test_attention_polls_only_while_a_refund_waits_for_approval_or_m_pesa(
    agent_client, agent, paid_payment, daraja, post_result
):
    response = agent_client.get("/support/attention/", headers=HX)
    assert response.status_code == 286 and b"hx-trigger" not in response.content
    payment = paid_payment()
    refund = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=500, method="reversal", reason="Due", key="k" * 9
    )
    response = agent_client.get("/support/attention/", headers=HX)
    assert response.status_code == 200 and b'hx-trigger="every 3s"' in response.content
    post_result(refund.result_token, reversal_success(500, refund))
    assert agent_client.get("/support/attention/", headers=HX).status_code == 286
    big = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=25_000, method="reversal", reason="Due", key="m" * 9
    )
    assert big.status == "requested"
    assert agent_client.get("/support/attention/", headers=HX).status_code == 200


def test_a_poll_that_finds_the_list_unchanged_leaves_it_as_it_is(client, agent, lead, paid_payment, daraja):
    payment = paid_payment()
    refund_request(actor=lead, payment_id=payment.pk, amount_kes=25_000, method="reversal", reason="Due", key="n" * 9)
    client.force_login(agent)
    page = client.get("/support/attention/", headers=HX).content.decode()
    seen = re.search(r'hx-get="/support/attention/\?seen=([0-9a-f]+)"', page).group(1)
    # Nothing changed: no content, so a note being typed in the list stays.
    assert client.get(f"/support/attention/?seen={seen}", headers=HX).status_code == 204
    other = paid_payment(check_in=20, check_out=23, receipt="UKK4H7TQ3N")
    refund_request(actor=lead, payment_id=other.pk, amount_kes=21_000, method="reversal", reason="More", key="o" * 9)
    changed = client.get(f"/support/attention/?seen={seen}", headers=HX)
    assert changed.status_code == 200 and changed.content.decode().count("data-approve") == 0  # agent: no right


def test_the_approve_form_is_offered_only_to_another_approver(client, lead, make_user, paid_payment, daraja):
    payment = paid_payment()
    refund = refund_request(
        actor=lead, payment_id=payment.pk, amount_kes=25_000, method="reversal", reason="Due", key="p" * 9
    )
    client.force_login(lead)
    assert "data-approve" not in client.get("/support/attention/").content.decode()
    assert "data-approve" not in client.get(f"/support/payments/{payment.pk}/").content.decode()
    client.force_login(support_user(make_user, email="second@example.com", full_name="Second Lead", approves=True))
    assert f"/support/refunds/{refund.pk}/approve/" in client.get("/support/attention/").content.decode()
    assert "data-approve" in client.get(f"/support/payments/{payment.pk}/").content.decode()


def test_a_cancelled_booking_with_a_refund_due_leaves_attention_when_the_reversal_result_arrives(
    agent_client, agent, lead, guest, paid_payment, daraja, post_result, client
):
    from reservations.models import Booking
    from reservations.services import booking_cancel

    payment = paid_payment()
    booking = booking_cancel(booking=Booking.objects.get(pk=payment.booking_id), user=guest)
    item = f'data-item="refund_due-{booking.pk}"'
    assert item in agent_client.get("/support/attention/").content.decode()
    refund = refund_request(
        actor=agent,
        payment_id=payment.pk,
        amount_kes=booking.refund_due_kes,
        method="reversal",
        reason="Due",
        key="k" * 9,
    )
    assert refund.status == "requested"
    assert f'data-item="refund-{refund.pk}"' in agent_client.get("/support/attention/").content.decode()
    client.force_login(lead)
    response = client.post(
        f"/support/refunds/{refund.pk}/approve/",
        {"reason": "Policy checked", "key": "a" * 9, "return_to": "attention"},
        headers=HX,
    )
    assert response.status_code == 200 and b'id="attention-list"' in response.content
    assert item in agent_client.get("/support/attention/").content.decode()  # sent, not yet refunded
    refund.refresh_from_db()
    post_result(refund.result_token, reversal_success(refund.amount_kes, refund))
    html = agent_client.get("/support/attention/").content.decode()
    assert item not in html and f'data-item="refund-{refund.pk}"' not in html


def test_attention_lists_expired_and_cancelled_bookings_with_a_refund_due(agent_client, guest, instalment_paid):
    from reservations.services import booking_cancel, bookings_expire_all

    cancelled = booking_cancel(booking=instalment_paid(), user=guest, reason="Plans changed")
    lapsed = instalment_paid()
    bookings_expire_all(now=timezone.now() + datetime.timedelta(hours=2))
    html = agent_client.get("/support/attention/").content.decode()
    assert f'data-item="refund_due-{cancelled.pk}"' in html and f'data-item="refund_due-{lapsed.pk}"' in html
    assert "Cancelled: 250,000 KES due back to the guest" in html
    assert "Hold ran out: 250,000 KES due back to the guest" in html
    assert f"Booking {lapsed.ref} · paid KES 250,000, refunded KES 0" in html


def test_the_timeline_merges_mpesa_booking_and_staff_events_with_raw_bodies(
    agent_client, agent, pending_payment, post_callback, daraja
):
    payment = pending_payment()
    post_callback(payment, success_callback(payment))
    payment_query_status(actor=agent, payment_id=payment.pk, receipt="UKK4H7TQ2M", reason="Double-check", key="k" * 9)
    response = agent_client.get(f"/support/payments/{payment.pk}/")
    html = response.content.decode()
    timeline = response.context["detail"].timeline
    assert {"mpesa", "booking", "staff"} <= {entry.source for entry in timeline}
    assert [e.at for e in timeline] == sorted(e.at for e in timeline)
    assert "Raw M-Pesa body" in html and "&quot;MpesaReceiptNumber&quot;" in html
    assert "Double-check" in html and "agent@example.com" in html
    assert " EAT" in html
    fragment = agent_client.get(f"/support/payments/{payment.pk}/", headers=HX)
    assert fragment.status_code == 200 and b'hx-trigger="every 2s"' in fragment.content  # status result awaited


def test_the_payment_page_costs_the_same_queries_however_long_its_history(
    agent_client, agent, pending_payment, post_callback, daraja, django_assert_num_queries
):
    payment = pending_payment()
    url = f"/support/payments/{payment.pk}/"
    with CaptureQueriesContext(connection) as few:
        assert agent_client.get(url).status_code == 200
    expected = len(few)  # the log is cleared by every later request
    for n in range(5):
        post_callback(payment, success_callback(payment))
        payment_query_status(
            actor=agent, payment_id=payment.pk, receipt="UKK4H7TQ2M", reason="Again", key=f"key-{n:06d}"
        )
    with django_assert_num_queries(expected):
        agent_client.get(url)


def test_the_attention_page_costs_the_same_queries_as_items_grow(
    agent_client, make_user, host, hold, pending_payment, django_assert_num_queries
):
    def add(n):
        for _ in range(n):
            user = make_user(email=f"u{Payment.objects.count()}-{timezone.now().timestamp()}@example.com")
            flagged(pending_payment, hold(user, 3, 5, listing_obj=make_listing(host)), status=Payment.Status.UNKNOWN)
            unmatched_callback()

    add(1)
    with CaptureQueriesContext(connection) as few:
        agent_client.get("/support/attention/")
    expected = len(few)  # the log is cleared by every later request
    add(6)
    with django_assert_num_queries(expected):
        response = agent_client.get("/support/attention/")
    assert len(response.context["attention"].items) == 14


def test_the_payment_page_shows_the_payers_whole_number_the_kenyan_way(agent_client, paid_payment):
    payment = paid_payment(phone="254712345149")
    html = agent_client.get(f"/support/payments/{payment.pk}/").content.decode()
    assert '<dt class="text-slate-500">Payer phone</dt><dd data-payer-phone>0712 345 149</dd>' in html
    assert "Paid back only to the payer (0712 345 149)." in html


def test_unknown_payment_ids_and_old_dates_are_fine(agent_client, pending_payment):
    payment = pending_payment()
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - datetime.timedelta(days=400))
    assert agent_client.get(f"/support/payments/{payment.pk}/").status_code == 200


def test_a_refund_whose_result_never_comes_needs_attention(agent_client, agent, paid_payment, daraja):
    from mpesa.models import Refund

    payment = paid_payment()
    refund = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=500, method="reversal", reason="Due", key="k" * 9
    )
    item = f'data-item="refund-{refund.pk}"'
    assert item not in agent_client.get("/support/attention/").content.decode()
    Refund.objects.filter(pk=refund.pk).update(sent_at=timezone.now() - datetime.timedelta(minutes=11))
    html = agent_client.get("/support/attention/").content.decode()
    assert item in html and "no result after 10 minutes" in html


def test_a_result_callback_for_no_request_of_ours_needs_attention_and_can_be_linked(
    agent_client, agent, paid_payment, daraja, post_result
):
    from mpesa.models import PaymentEvent, UnmatchedCallbackLink
    from support.services import callback_link

    payment = paid_payment()
    ours = refund_request(
        actor=agent, payment_id=payment.pk, amount_kes=500, method="reversal", reason="Due", key="k" * 9
    )
    post_result(ours.result_token, reversal_success(500, ours))
    post_result("0" * 32, reversal_success(700))
    stranger = PaymentEvent.objects.get(kind=PaymentEvent.Kind.RESULT, path_token="0" * 32)
    html = agent_client.get("/support/attention/").content.decode()
    assert f'data-item="unmatched-{stranger.pk}"' in html and "Result callback with an unknown token" in html
    assert html.count('data-item="unmatched-') == 1  # our own refund's result is not a stranger
    callback_link(actor=agent, event_id=stranger.pk, payment_id=payment.pk, note="Reversal done by phone", key="l" * 9)
    assert UnmatchedCallbackLink.objects.filter(event=stranger, payment=payment).exists()
    assert f'data-item="unmatched-{stranger.pk}"' not in agent_client.get("/support/attention/").content.decode()
    timeline = agent_client.get(f"/support/payments/{payment.pk}/").context["detail"].timeline
    assert any(entry.meta.get("id") == stranger.pk for entry in timeline)
