"""Payment-status poll benchmark: the trip page's payment panel while a guest waits for the M-Pesa prompt.

Every paying guest's browser asks for the panel every 2 s, so its cost is multiplied by everyone paying at once.
This bench makes a guest with a booking awaiting payment and a pending M-Pesa payment (after two failed ones, as a
guest who tried again leaves it) through the services and plain model rows, signs the guest in (a session row, as
Django's login leaves it), then runs gunicorn (2 workers x 4 threads) with production settings and concurrent
keep-alive clients on loopback: first /healthz (the baseline: no session, one trivial query), then the poll with
the session cookie, HX-Request and Accept-Encoding as a browser sends them (the fragment goes out compressed).
Prints each as a ratio to /healthz of the same run (requests/s and server CPU per request) beside the target, and
the queries the poll issues.

--health-checks all runs gunicorn three times: with Django's connection health check (a `SELECT 1` before each
request's first query), with core.db.postgresql's check that reads the socket, and with none; it prints the three
tables, the figure behind the database settings in config/settings/base.py. --profile N runs the
poll N times in this process under cProfile (the whole Django stack, gunicorn left out) and prints the top costs.

Not part of the test suite. Run it against a scratch database:

    createdb -h 127.0.0.1 -U postgres poll_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/poll_bench .venv/bin/python bench/poll.py
"""

import cProfile
import datetime
import gzip
import io
import json
import os
import pstats
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    bench_arguments,
    configure,
    cpu_line,
    free_port,
    gunicorn,
    load,
    load_in_turns,
    ratio_lines,
    require_postgres,
)

TARGET = 0.5  # issue 21: the poll of a pending payment at half the requests/s of /healthz or better
POLL = "payment-status poll"
HTMX = {"HX-Request": "true"}
BROWSER = {**HTMX, "Accept-Encoding": "gzip, deflate, br"}  # what a browser's poll sends besides its cookie


def pending_payment_session() -> tuple[str, str]:
    """A guest signed in (a session row) whose booking awaits a pending M-Pesa payment: (poll path, session key)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction
    from django.utils import timezone

    from core.models import User
    from listings.models import Listing
    from listings.selectors import Stay, stay_quote
    from mpesa.client import new_token
    from mpesa.models import Payment
    from mpesa.search_text import booking_search_texts
    from reservations.services import GuestData, booking_hold, booking_lock, booking_payment_started

    run = uuid.uuid4().hex[:10]
    host = User.objects.create(email=f"bench-host-{run}@nexus.test", full_name="Otieno Host")
    guest = User.objects.create(
        email=f"bench-guest-{run}@nexus.test", full_name="Wanjiku Kamau", mpesa_phone="254708374149"
    )
    listing = Listing.objects.create(
        host=host,
        title=f"Bench cottage {run}",
        slug=f"bench-poll-{run}",
        county="kwale",
        town="Diani",
        description="A quiet cottage a short walk from the beach.",
        max_guests=4,
        nightly_price_kes=10_000,
        cleaning_fee_kes=1_500,
        is_published=True,
        min_nights=1,
        max_nights=60,
        same_day_cutoff_hour=18,
    )
    today = timezone.localdate()
    stay = Stay(check_in=today + datetime.timedelta(days=20), check_out=today + datetime.timedelta(days=23))
    quote = stay_quote(listing=listing, stay=stay, guests=2, now=timezone.now())
    booking = booking_hold(
        booker=guest,
        listing_id=listing.pk,
        stay=stay,
        guests=[GuestData(full_name=guest.full_name, email=guest.email), GuestData(full_name="Grace Achieng")],
        shown_total_kes=quote.total_kes,
        idempotency_key=run,
    )
    search_text = booking_search_texts(booking_ids=[booking.pk])[booking.pk]

    def payment(**fields) -> Payment:
        return Payment.objects.create(
            booking=booking,
            initiated_by=guest,
            callback_token=new_token(),
            phone="254708374149",
            amount_kes=booking.total_kes,
            merchant_request_id="7c1e-4b2a-9d3f-6a8e2f0b5c1d4471203",
            checkout_request_id=f"ws_CO_{run}_{Payment.objects.filter(booking=booking).count()}",
            search_text=search_text,
            **fields,
        )

    # Two prompts the guest cancelled on the phone before this one: the panel reads only the latest.
    for _ in range(2):
        payment(status=Payment.Status.FAILED, result_code="1032", error_message="You cancelled the request.")
    with transaction.atomic():
        locked = booking_lock(booking_id=booking.pk)
        pending = payment(status=Payment.Status.PENDING)
        booking_payment_started(
            booking=locked,
            blocks_until=timezone.now() + datetime.timedelta(hours=2),
            details={"payment_id": pending.pk, "amount_kes": pending.amount_kes},
        )
    session = SessionStore()
    session[SESSION_KEY] = str(guest.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]  # as a sign-in names it
    session[HASH_SESSION_KEY] = guest.get_session_auth_hash()
    session.create()
    return f"/trips/{booking.ref}/payment-status/", session.session_key


def poll_once(path: str, session_key: str) -> tuple[int, bytes]:
    """The poll through Django's test client, its queries counted: (queries, fragment)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, headers=BROWSER, HTTP_HOST="127.0.0.1")
    fragment = response.content
    if response.get("Content-Encoding") == "gzip":
        fragment = gzip.decompress(fragment)
    if response.status_code != 200 or b'hx-trigger="every 2s"' not in fragment:
        sys.exit(f"{path} answered {response.status_code}, not a polling panel: {fragment[:300]!r}")
    for query in queries.captured_queries:
        print(f"  query: {' '.join(query['sql'].split())[:160]}")
    print(f"poll: {path}, {len(queries)} queries, {len(fragment):,} bytes of fragment, {len(response.content):,} sent")
    return len(queries), fragment


def profile(path: str, session_key: str, *, times: int) -> None:
    """The whole Django stack (middleware, view, template) in this process under cProfile."""
    from django.conf import settings
    from django.test import RequestFactory

    from config.wsgi import application as handler

    request = RequestFactory().get(
        path, headers=BROWSER, HTTP_HOST="127.0.0.1", HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}={session_key}"
    )
    environ = request.environ

    def once() -> None:
        statuses = []
        response = handler(dict(environ), lambda status, headers, exc_info=None: statuses.append(status))
        body = b"".join(response)
        response.close()  # as gunicorn closes it: the request is emptied (core/wsgi.py)
        if not statuses[0].startswith("200") or not body:
            sys.exit(f"in-process poll answered {statuses[0]}")

    for _ in range(50):  # warm: templates compiled, URL resolver and translations loaded
        once()
    started = time.process_time()
    for _ in range(times):
        once()
    cpu = (time.process_time() - started) * 1000 / times
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(times):
        once()
    profiler.disable()
    stats = pstats.Stats(profiler)
    calls = stats.total_calls / times  # type: ignore[attr-defined]
    print(f"in process, {times} polls: {cpu:.2f} ms CPU a poll without the profiler, {calls:,.0f} Python calls a poll")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
    print(out.getvalue())
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
    print(out.getvalue())


def panel_query_costs(path: str, times: int = 2_000) -> None:
    """The poll's one query as plain SQL (mpesa.selectors.payment_panel_polling, building the panel included) against
    the same read built by the ORM: CPU in this process per call."""
    from mpesa.models import Payment
    from mpesa.selectors import payment_panel_polling
    from reservations.models import Booking

    ref = path.split("/")[2]
    user = Booking.objects.select_related("booker").get(ref=ref).booker
    columns = ["status", "phone", "created_at", "last_query_at", "refund_due_kes", "flag"]
    columns += ["booking__status", "booking__total_kes", "booking__paid_kes"]
    reads = {
        "plain SQL, the panel built": lambda: payment_panel_polling(user=user, ref=ref),
        "the ORM, the row only": lambda: (
            Payment.objects.filter(booking__booker=user, booking__ref=ref)
            .order_by("-created_at", "-id")
            .values_list(*columns)
            .first()
        ),
    }
    for name, read in reads.items():
        for _ in range(100):
            read()
        started = time.process_time()
        for _ in range(times):
            read()
        print(f"the panel's query, {name}: {(time.process_time() - started) * 1000 / times:.3f} ms of CPU")


def health_check_costs(times: int = 20_000) -> None:
    """What one connection health check costs in this process: Django's `SELECT 1`, and core.db.postgresql's."""
    from django.db import connection
    from django.db.backends.postgresql.base import DatabaseWrapper as DjangoPostgres

    def backend_cpu_seconds() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    connection.ensure_connection()
    checks = {
        "Django's SELECT 1": lambda: DjangoPostgres.is_usable(connection),
        "core.db.postgresql's socket read": connection.is_usable,
    }
    for name, check in checks.items():
        for _ in range(500):
            check()
        backend, wall, cpu = backend_cpu_seconds(), time.perf_counter(), time.process_time()
        for _ in range(times):
            check()
        per = 1e6 / times
        cpu, wall = (time.process_time() - cpu) * per, (time.perf_counter() - wall) * per
        backend = (backend_cpu_seconds() - backend) * per
        print(f"health check, {name}: {cpu:.1f} us of CPU here, {backend:.1f} us in PostgreSQL, {wall:.1f} us in all")


def measure(path: str, session_key: str, *, clients: int, seconds: float, queries: int, turns: int) -> dict[str, dict]:
    from django.conf import settings

    port = free_port()
    signed_in = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}", **BROWSER}
    with gunicorn(port):
        if turns > 1:
            plan = {"/healthz": (["/healthz"], {}), POLL: ([path], signed_in)}
            figures = load_in_turns(port, plan, clients=clients, seconds=seconds, turns=turns)
        else:
            figures = {"/healthz": load(port, "/healthz", clients=clients, seconds=seconds)}
            figures[POLL] = load(port, path, clients=clients, seconds=seconds, headers=signed_in)
    figures[POLL]["queries"] = queries
    return figures


def main() -> None:
    parser = bench_arguments(__doc__.split("\n\n")[0], seconds=15)
    parser.add_argument(
        "--health-checks",
        choices=["deployed", "query", "socket", "off", "all"],
        default="deployed",
        help="the connection health check gunicorn runs with; all: each in turn, in three gunicorn runs",
    )
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="profile N polls in this process")
    options = parser.parse_args()
    require_postgres(options.database_url)
    configure(options.database_url)
    path, session_key = pending_payment_session()
    queries, _ = poll_once(path, session_key)
    if options.profile:
        panel_query_costs(path)
        profile(path, session_key, times=options.profile)

    from django.conf import settings
    from django.db import connection

    if options.health_checks == "all":
        health_check_costs()
    connection.close()
    modes = {
        "deployed": {},
        "query": {"DJANGO_CONN_HEALTH_CHECKS": "1", "DJANGO_CONN_CHECK_BY_QUERY": "1"},
        "socket": {"DJANGO_CONN_HEALTH_CHECKS": "1", "DJANGO_CONN_CHECK_BY_QUERY": "0"},
        "off": {"DJANGO_CONN_HEALTH_CHECKS": "0"},
    }
    names = ["query", "socket", "off"] if options.health_checks == "all" else [options.health_checks]
    results = {}
    for name in names:
        for key in ("DJANGO_CONN_HEALTH_CHECKS", "DJANGO_CONN_CHECK_BY_QUERY"):
            os.environ.pop(key, None)
        os.environ.update(modes[name])
        label = {
            "deployed": f"health checks as deployed ({settings.DATABASES['default']['ENGINE']})",
            "query": "health check by query (Django's SELECT 1 before each request's first query)",
            "socket": "health check by socket (core.db.postgresql: nothing sent to the server)",
            "off": "no health check (CONN_HEALTH_CHECKS off)",
        }[name]
        figures = measure(
            path, session_key, clients=options.clients, seconds=options.seconds, queries=queries, turns=options.turns
        )
        results[label] = figures
        print(f"\n{label}: gunicorn 2 workers x 4 threads, {options.clients} clients, {options.seconds:.0f} s a path")
        for line in ratio_lines(figures, targets={POLL: TARGET}):
            print(line)
        for name, f in figures.items():
            print(f"{name:<28} p50 {f['p50_ms']:.1f} ms, p95 {f['p95_ms']:.1f} ms, {f['errors']} errors; {cpu_line(f)}")
    if options.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
