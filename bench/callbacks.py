"""Callback benchmark: 2,000 pending payments, their success callbacks posted by 8 concurrent clients.

Starts gunicorn (2 workers x 4 threads) with production settings and the built-in Daraja emulator on a scratch
PostgreSQL database. Fills 2,000 bookings awaiting payment, each with a pending payment that the emulator
knows as paid, then posts every success callback (a quarter of them twice) from 8 concurrent clients over
loopback and prints callbacks/s and latency. The verifications queued by the callbacks are then drained by
`manage.py db_worker --batch` (each an STK Query to the emulator), and the ledger is checked: each booking
confirmed exactly once, one recorded event per callback received, nothing counted twice. Exits non-zero if
the ledger is wrong. Target: at least 200 callbacks/s.

Not part of the test suite. Run it against a scratch database:

    createdb -h 127.0.0.1 -U postgres nexus_callbacks
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nexus_callbacks .venv/bin/python bench/callbacks.py
"""

import datetime
import json
import os
import queue
import random
import secrets
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, configure, free_port, gunicorn, percentile  # noqa: E402

PAYMENTS = int(os.environ.get("BENCH_PAYMENTS", "2000"))
CLIENTS = 8
DUPLICATE_SHARE = 0.25
STAYS_PER_LISTING = 10


def fill() -> list[tuple[str, dict]]:
    """Bookings awaiting payment, their pending payments, and the emulator's record that each was paid."""
    from django.utils import timezone

    from core.models import User
    from daraja_emulator.models import StkPush
    from listings.models import Listing
    from mpesa.client import new_token
    from mpesa.models import Payment
    from reservations.models import Booking, new_booking_ref

    now = timezone.now()
    suffix = secrets.token_hex(3)
    host = User.objects.create_user(email=f"cb-host-{suffix}@example.com", password=None, full_name="Host")
    guest = User.objects.create_user(email=f"cb-guest-{suffix}@example.com", password=None, full_name="Guest")
    listing_count = -(-PAYMENTS // STAYS_PER_LISTING)
    listings = Listing.objects.bulk_create(
        Listing(
            host=host,
            title=f"Callback cottage {suffix}-{n}",
            slug=f"cb-{suffix}-{n}",
            county="kwale",
            town="Diani",
            description="Bench listing.",
            max_guests=2,
            nightly_price_kes=5_000,
            is_published=True,
        )
        for n in range(listing_count)
    )
    first = timezone.localdate() + datetime.timedelta(days=60)
    bookings = []
    for n in range(PAYMENTS):
        listing = listings[n // STAYS_PER_LISTING]
        check_in = first + datetime.timedelta(days=3 * (n % STAYS_PER_LISTING))
        bookings.append(
            Booking(
                ref=new_booking_ref(),
                listing=listing,
                booker=guest,
                check_in=check_in,
                check_out=check_in + datetime.timedelta(days=2),
                guest_count=1,
                status=Booking.Status.AWAITING_PAYMENT,
                blocks_until=now + datetime.timedelta(hours=2),
                idempotency_key=secrets.token_hex(16),
                nights_total_kes=10_000,
                total_kes=10_000,
                cancellation_policy="flexible",
                check_in_at=timezone.make_aware(datetime.datetime.combine(check_in, datetime.time(14))),
            )
        )
    bookings = Booking.objects.bulk_create(bookings)
    payments, pushes, callbacks = [], [], []
    for n, booking in enumerate(bookings):
        checkout_id = f"ws_CO_{now:%d%m%Y%H%M%S}{n:04d}708374149"
        receipt = f"UK{secrets.token_hex(4).upper()}"[:10]
        payments.append(
            Payment(
                booking=booking,
                initiated_by=guest,
                callback_token=new_token(),
                phone="254708374149",
                amount_kes=booking.total_kes,
                status=Payment.Status.PENDING,
                checkout_request_id=checkout_id,
                merchant_request_id=f"bench-{n}",
            )
        )
        pushes.append(
            StkPush(
                merchant_request_id=f"bench-{suffix}-{n}",
                checkout_request_id=checkout_id,
                business_short_code="174379",
                transaction_type="CustomerPayBillOnline",
                amount_kes=booking.total_kes,
                party_a="254708374149",
                party_b="174379",
                phone="254708374149",
                callback_url="",
                created_at=now,
                status=StkPush.Status.COMPLETED,
                settle_at=now,
                planned_callbacks=0,
                result_code="0",
                result_desc="The service request is processed successfully.",
                receipt=receipt,
                completed_at=now,
            )
        )
    payments = Payment.objects.bulk_create(payments)
    StkPush.objects.bulk_create(pushes)
    for payment, push in zip(payments, pushes, strict=True):
        body = {
            "Body": {
                "stkCallback": {
                    "MerchantRequestID": payment.merchant_request_id,
                    "CheckoutRequestID": payment.checkout_request_id,
                    "ResultCode": 0,
                    "ResultDesc": "The service request is processed successfully.",
                    "CallbackMetadata": {
                        "Item": [
                            {"Name": "Amount", "Value": float(payment.amount_kes)},
                            {"Name": "MpesaReceiptNumber", "Value": push.receipt},
                            {"Name": "Balance"},
                            {"Name": "TransactionDate", "Value": int(f"{now:%Y%m%d%H%M%S}")},
                            {"Name": "PhoneNumber", "Value": 254708374149},
                        ]
                    },
                }
            }
        }
        callbacks.append((payment.callback_token, body))
    return callbacks


def post_all(base: str, callbacks: list[tuple[str, dict]]) -> tuple[list[float], list[int], float]:
    work: queue.Queue = queue.Queue()
    for item in callbacks:
        work.put(item)
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        http = requests.Session()
        while True:
            try:
                token, body = work.get_nowait()
            except queue.Empty:
                return
            data = json.dumps(body).encode()
            started = time.perf_counter()
            try:
                status = http.post(
                    f"{base}/payments/stk-callback/{token}/",
                    data=data,
                    headers={"Content-Type": "application/json;charset=UTF-8", "BusinessShortCode": "174379"},
                    timeout=30,
                ).status_code
            except requests.RequestException:
                status = 599
            with lock:
                latencies.append(time.perf_counter() - started)
                statuses.append(status)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses, time.perf_counter() - started


def ledger_problems(callbacks_sent: int) -> list[str]:
    from django.db.models import Count

    from mpesa.models import Payment, PaymentEvent
    from reservations.models import Booking, BookingEvent

    problems = []
    recorded = PaymentEvent.objects.filter(kind="callback").count()
    if recorded != callbacks_sent:
        problems.append(f"{recorded} callbacks recorded for {callbacks_sent} sent")
    confirmations = (
        BookingEvent.objects.filter(to_status="confirmed").values("booking").annotate(n=Count("id")).filter(n__gt=1)
    )
    if confirmations.exists():
        problems.append(f"{confirmations.count()} bookings confirmed more than once")
    unconfirmed = Booking.objects.exclude(status="confirmed").count()
    if unconfirmed:
        problems.append(f"{unconfirmed} bookings not confirmed")
    overcounted = Booking.objects.exclude(paid_kes=10_000).count()
    if overcounted:
        problems.append(f"{overcounted} bookings with paid_kes other than their total")
    not_succeeded = Payment.objects.exclude(status="succeeded").count()
    if not_succeeded:
        problems.append(f"{not_succeeded} payments not succeeded")
    flagged = Payment.objects.exclude(flag="").count()
    if flagged:
        problems.append(f"{flagged} payments flagged")
    return problems


def main() -> int:
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        print("Set DATABASE_URL to a scratch PostgreSQL database (see the docstring).")
        return 2
    port = free_port()
    configure(
        database_url,
        MPESA_ENV="emulator",
        MPESA_BASE_URL=f"http://127.0.0.1:{port}/daraja",
        MPESA_CALLBACK_BASE_URL=f"http://127.0.0.1:{port}",
        MPESA_UNMATCHED_CALLBACKS_PER_IP="100000",
    )
    from reservations.models import Booking

    if Booking.objects.exists():
        print("The database already has bookings: use a fresh scratch database.")
        return 2
    callbacks = fill()
    duplicates = random.Random(7).sample(callbacks, int(len(callbacks) * DUPLICATE_SHARE))
    to_send = callbacks + duplicates
    random.Random(11).shuffle(to_send)
    with gunicorn(port) as base:
        latencies, statuses, elapsed = post_all(base, to_send)
        drain_started = time.perf_counter()
        subprocess.run(
            [sys.executable, "manage.py", "db_worker", "--batch"],
            cwd=ROOT,
            env=os.environ.copy(),
            check=True,
            # The worker also tries the confirmation e-mails, which fail here: no SMTP server on loopback.
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        drain = time.perf_counter() - drain_started

    errors = sum(1 for status in statuses if status != 200)
    print(f"{len(to_send)} success callbacks ({len(duplicates)} of them repeats) for {PAYMENTS} payments,")
    print(f"  {CLIENTS} concurrent clients, gunicorn 2 workers x 4 threads, PostgreSQL")
    print(f"  callbacks/s        {len(to_send) / elapsed:.0f}")
    print(f"  latency p50        {statistics.median(latencies) * 1000:.1f} ms")
    print(f"  latency p95        {percentile(latencies, 0.95) * 1000:.1f} ms")
    print(f"  non-200 answers    {errors}")
    print(f"  verifications     {PAYMENTS} STK Queries drained by db_worker in {drain:.1f} s")
    problems = ledger_problems(len(to_send))
    for problem in problems:
        print(f"  LEDGER: {problem}")
    ok = not problems and errors == 0
    print("ledger OK" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
