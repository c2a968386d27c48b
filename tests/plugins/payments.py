"""Fixtures for payments: a pending payment as payment_start leaves it, a paid one, a first instalment paid, and
M-Pesa's POSTs to the STK callback and result endpoints."""

import datetime
import json

import pytest
from django.db import transaction
from django.utils import timezone

from core.money import MPESA_MAX_PAYMENT_KES
from mpesa.client import StkQueryAnswer, new_token
from mpesa.models import Payment
from mpesa.search_text import booking_search_texts
from mpesa.services import payment_settle_query
from reservations.services import booking_lock, booking_payment_started
from tests.helpers.payments import success_callback
from tests.listings.builders import make_listing


@pytest.fixture
def pending_payment(hold, guest):
    """A booking held by the guest and a payment whose push M-Pesa accepted (as payment_start leaves it)."""

    def _pending(*, check_in=10, check_out=13, phone="254708374149", amount=None, checkout_id=None, booking=None):
        booking = booking or hold(guest, check_in, check_out, now=timezone.now() - datetime.timedelta(minutes=1))
        locked = booking_lock(booking_id=booking.pk)
        payment = Payment.objects.create(
            booking=locked,
            initiated_by=guest,
            callback_token=new_token(),
            phone=phone,
            amount_kes=amount or locked.total_kes,
            status=Payment.Status.PENDING,
            checkout_request_id=checkout_id or f"ws_CO_20112026140513{Payment.objects.count():03d}708374149",
            merchant_request_id="7c1e-4b2a-9d3f-6a8e2f0b5c1d4471203",
            search_text=booking_search_texts(booking_ids=[locked.pk])[locked.pk],
        )
        booking_payment_started(
            booking=locked,
            blocks_until=timezone.now() + datetime.timedelta(minutes=5),
            details={"payment_id": payment.pk, "amount_kes": payment.amount_kes},
        )
        return payment

    return _pending


@pytest.fixture
def paid_payment(pending_payment):
    """A payment M-Pesa confirmed, counted towards its booking (which is then confirmed)."""

    def _paid(*, receipt="UKK4H7TQ2M", **kwargs):
        with transaction.atomic():  # the helper locks rows; transactional tests have no outer transaction
            payment = pending_payment(**kwargs)
        Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.VERIFYING, receipt=receipt)
        return payment_settle_query(
            payment_id=payment.pk, answer=StkQueryAnswer(final=True, result_code="0", result_desc="ok")
        )

    return _paid


@pytest.fixture
def post_callback(client, django_capture_on_commit_callbacks):
    def _post(payment_or_token, body, *, raw: bytes | None = None, ip="196.201.212.69"):
        token = payment_or_token if isinstance(payment_or_token, str) else payment_or_token.callback_token
        data = raw if raw is not None else json.dumps(body).encode()
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                f"/payments/stk-callback/{token}/",
                data=data,
                content_type="application/json;charset=UTF-8",
                headers={"BusinessShortCode": "174379"},
                REMOTE_ADDR=ip,
            )

    return _post


@pytest.fixture
def post_result(client, django_capture_on_commit_callbacks):
    """POST a result callback to /payments/result/<token>/ as Daraja would."""

    def _post(token: str, body: dict | None, *, raw: bytes | None = None, path: str = "result", ip="196.201.214.200"):
        data = raw if raw is not None else json.dumps(body).encode()
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"/payments/{path}/{token}/", data=data, content_type="application/json", REMOTE_ADDR=ip)

    return _post


@pytest.fixture
def instalment_paid(host, guest, hold, pending_payment, post_callback):
    """A stay of KES 278,000 (6 nights of 45,000 and 8,000 cleaning, moderate policy) held by the guest at the clock's
    now, its first M-Pesa instalment of 250,000 paid through the callback and the verifying query: held again with a
    fresh hold, 250,000 paid, 28,000 to pay."""

    def _paid(*, check_in=20, check_out=26):
        big_house = make_listing(host, nightly_price_kes=45_000, cleaning_fee_kes=8_000, cancellation_policy="moderate")
        booking = hold(guest, check_in, check_out, listing_obj=big_house, now=timezone.now())
        payment = pending_payment(booking=booking, amount=MPESA_MAX_PAYMENT_KES)
        post_callback(payment, success_callback(payment, receipt=f"UKA{payment.pk:07d}"))
        payment_settle_query(payment_id=payment.pk, answer=StkQueryAnswer(final=True, result_code="0"))
        booking.refresh_from_db()
        assert (booking.status, booking.total_kes, booking.paid_kes) == ("held", 278_000, 250_000)
        return booking

    return _paid
