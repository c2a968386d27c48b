"""Support console search benchmark: 200,000 payments and their bookings, searched through gunicorn.

Fills a PostgreSQL database with 2,000 listings, 20,000 guests, 200,000 bookings (with their guest rows) and one
payment each (skipped when the data is already there), then runs gunicorn (2 workers x 4 threads) with production
settings and, signed in as a support agent with TOTP set up, sends 8 concurrent clients for 20 s at each search:
a receipt, a phone number in local form, a name fragment and a date range, after /healthz measured the same way on
the same gunicorn. Prints each search's requests/s and server CPU per request as ratios to /healthz's (target: 0.12
of its requests/s), p50, p95 and the SQL queries each page issues (the same for every search). With --profile NAME,
profiles that search in one process instead (cProfile, the top costs).

Not part of the test suite. Run it against a scratch database:

    createdb -h 127.0.0.1 -U postgres nexus_support_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nexus_support_bench .venv/bin/python bench/support_search.py
    DATABASE_URL=... .venv/bin/python bench/support_search.py --profile "name fragment"
"""

import datetime
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    BASELINE,
    bench_arguments,
    configure,
    cpu_line,
    free_port,
    gunicorn,
    load,
    ratio_lines,
    require_postgres,
)
from bench.search import _insert_select  # noqa: E402

FIRST_NAMES = ["Wanjiku", "Akinyi", "Otieno", "Kamau", "Njeri", "Mwangi", "Achieng", "Kiprop", "Chebet", "Mutua"]
LAST_NAMES = ["Kamau", "Odhiambo", "Wafula", "Kariuki", "Mohamed", "Njoroge", "Omondi", "Kiptoo", "Were", "Maina"]
REF_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
# Each search's requests/s as a ratio to /healthz's in the same run (issue 21).
TARGET = 0.12


def _array(values: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]"


def _ref_sql(n: str) -> str:
    """A unique booking reference for row n: NX- and six letters of the reference alphabet (base 25)."""
    digits = [f"substr('{REF_ALPHABET}', (({n} / {25**k}) % 25)::int + 1, 1)" for k in range(5, -1, -1)]
    return "'NX-' || " + " || ".join(digits)


def phone_of(n: int) -> str:
    return f"2547{(n * 7919) % 100_000_000:08d}"


def fill(*, listings: int, guests: int, payments: int) -> None:
    from django.db import connection, transaction

    from core.models import User
    from listings.models import Listing
    from mpesa.models import Payment
    from reservations.models import Booking, BookingGuest

    existing = Payment.objects.count()
    if existing == payments:
        print(f"data: {existing:,} payments already there, not refilled")
        return
    if existing:
        sys.exit(f"{existing:,} payments exist, not {payments:,}: use a fresh database.")
    started = time.perf_counter()
    host, _ = User.objects.get_or_create(email="bench-host@nexus.test", defaults={"full_name": "Bench Host"})
    first, last = _array(FIRST_NAMES), _array(LAST_NAMES)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _insert_select(
                Listing,
                {
                    "created_at": "now()",
                    "updated_at": "now()",
                    "host_id": str(host.pk),
                    "title": "(ARRAY['Beach cottage','Lamu rooftop','Nanyuki farmhouse','City flat','Lake villa'])"
                    "[1 + g % 5] || ' ' || g",
                    "slug": "'support-bench-' || g",
                    "description": "'A place to stay.'",
                    "property_type": "'house'",
                    "county": "'kwale'",
                    "town": "'Diani'",
                    "max_guests": "6",
                    "bedrooms": "2",
                    "beds": "3",
                    "bathrooms": "1",
                    "nightly_price_kes": "2500 + (g * 7919) % 42500",
                    "cleaning_fee_kes": "0",
                    "weekly_discount_percent": "0",
                    "monthly_discount_percent": "0",
                    "min_nights": "1",
                    "max_nights": "60",
                    "advance_notice_days": "0",
                    "same_day_cutoff_hour": "18",
                    "check_in_time": "time '14:00'",
                    "check_out_time": "time '10:00'",
                    "house_rules": "''",
                    "cancellation_policy": "'moderate'",
                    "is_published": "true",
                    "street_address": "''",
                    "directions": "''",
                    "check_in_instructions": "''",
                    "host_phone": "''",
                    "review_count": "0",
                    "rating_sum": "0",
                },
                f"generate_series(1, {listings}) AS g",
            )
        )
        cursor.execute(
            _insert_select(
                User,
                {
                    "password": "'!'",
                    "last_login": "NULL",
                    "is_superuser": "false",
                    "email": "'guest' || g || '@bench.nexus.test'",
                    "full_name": f"({first})[1 + g % 10] || ' ' || ({last})[1 + (g / 10) % 10] || ' ' || g",
                    "phone": "''",
                    "phone_verified": "false",
                    "mpesa_phone": "''",
                    "is_staff": "false",
                    "is_active": "true",
                    "date_joined": "now()",
                    "public_id": "'bench-g' || g",
                },
                f"generate_series(1, {guests}) AS g",
            )
        )
        # Bookings never overlap on one listing: the k-th booking of a listing starts 3k days after the first.
        check_in = f"(current_date - 400 + ((g / {listings}) * 3)::int)"
        cursor.execute(
            _insert_select(
                Booking,
                {
                    "created_at": "now() - g * interval '150 seconds'",
                    "updated_at": "now()",
                    "ref": _ref_sql("g"),
                    "listing_id": f"(SELECT min(id) FROM listings_listing WHERE slug LIKE 'support-bench-%') "
                    f"+ g % {listings}",
                    "booker_id": f"(SELECT min(id) FROM core_user WHERE email LIKE 'guest%@bench.nexus.test') "
                    f"+ g % {guests}",
                    "check_in": check_in,
                    "check_out": f"{check_in} + 2",
                    "guest_count": "2",
                    "status": "CASE WHEN g % 10 < 8 THEN 'confirmed' WHEN g % 10 = 8 THEN 'cancelled' "
                    "ELSE 'expired' END",
                    "blocks_until": "NULL",
                    "idempotency_key": "'bench-' || g",
                    "nights": "'[]'::jsonb",
                    "nights_total_kes": "4000 + (g * 7919) % 60000",
                    "discount_name": "''",
                    "discount_percent": "0",
                    "discount_kes": "0",
                    "cleaning_fee_kes": "0",
                    "total_kes": "4000 + (g * 7919) % 60000",
                    "cancellation_policy": "'moderate'",
                    "check_in_at": f"({check_in} + time '14:00') AT TIME ZONE 'Africa/Nairobi'",
                    "paid_kes": "CASE WHEN g % 10 < 9 THEN 4000 + (g * 7919) % 60000 ELSE 0 END",
                    "refund_due_kes": "0",
                    "refunded_kes": "0",
                    "confirmed_at": "CASE WHEN g % 10 < 9 THEN now() END",
                    "cancelled_at": "CASE WHEN g % 10 = 8 THEN now() END",
                    "cancel_reason": "''",
                },
                f"generate_series(0, {payments - 1}) AS g",
            )
        )
        cursor.execute(
            _insert_select(
                BookingGuest,
                {
                    "booking_id": "b.id",
                    "position": "p",
                    "full_name": f"CASE WHEN p = 1 THEN u.full_name ELSE ({first})[1 + (b.id + 3) % 10] || ' ' "
                    f"|| ({last})[1 + (b.id / 7) % 10] END",
                    "email": "CASE WHEN p = 1 THEN u.email ELSE '' END",
                    "phone": "''",
                    "age_group": "'adult'",
                    "user_id": "NULL",
                },
                "reservations_booking b JOIN core_user u ON u.id = b.booker_id "
                "CROSS JOIN generate_series(1, 2) AS p "
                "WHERE b.idempotency_key LIKE 'bench-%' AND (p = 1 OR b.id % 3 = 0)",
            )
        )
        cursor.execute(
            _insert_select(
                Payment,
                {
                    "created_at": "b.created_at + interval '1 minute'",
                    "updated_at": "now()",
                    "booking_id": "b.id",
                    "initiated_by_id": "b.booker_id",
                    "callback_token": "md5('bench' || b.id)",
                    "phone": "'2547' || lpad(((g * 7919) % 100000000)::text, 8, '0')",
                    "amount_kes": "b.total_kes",
                    "status": "CASE WHEN g % 20 < 17 THEN 'succeeded' WHEN g % 20 < 19 THEN 'failed' "
                    "ELSE 'unknown' END",
                    "merchant_request_id": "'bench-' || g",
                    "checkout_request_id": "'ws_CO_bench' || lpad(g::text, 9, '0')",
                    "result_code": "CASE WHEN g % 20 < 17 THEN '0' WHEN g % 20 < 19 THEN '1032' ELSE '' END",
                    "result_desc": "''",
                    "receipt": "CASE WHEN g % 20 < 17 THEN 'UKL' || lpad(g::text, 7, '0') END",
                    "amount_reported": "''",
                    "phone_reported": "''",
                    "transaction_date": "''",
                    "flag": "''",
                    "refund_due_kes": "0",
                    "counted_kes": "CASE WHEN g % 20 < 17 THEN b.total_kes ELSE 0 END",
                    "reported": "NULL",
                    "refund_committed_kes": "0",
                    "guest_code": "''",
                    "error_message": "''",
                    "push_answered_at": "b.created_at + interval '1 minute'",
                    "settled_at": "b.created_at + interval '2 minutes'",
                    "last_query_at": "NULL",
                    "query_count": "0",
                    # What mpesa.search_text writes, for these ASCII names: booker, address, title, then the
                    # second guest (the first is the booker again, written once).
                    "search_text": "(SELECT concat_ws(E'\\n', lower(u.full_name), lower(u.email), lower(l.title), "
                    "(SELECT string_agg(lower(bg.full_name), E'\\n' ORDER BY bg.position) "
                    "FROM reservations_bookingguest bg WHERE bg.booking_id = b.id AND bg.position > 1)) "
                    "FROM core_user u, listings_listing l WHERE u.id = b.booker_id AND l.id = b.listing_id)",
                },
                "(SELECT b.*, (replace(b.idempotency_key, 'bench-', ''))::int AS g FROM reservations_booking b "
                "WHERE b.idempotency_key LIKE 'bench-%') AS b",
            )
        )
    # VACUUM, not only ANALYZE: after a bulk insert the trigram indexes' pending lists are still unmerged and every
    # name search would read them (autovacuum clears them in production). VACUUM cannot run inside a transaction.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    check_search_text()
    print(
        f"data: {Listing.objects.count():,} listings, {User.objects.count():,} users, "
        f"{Booking.objects.count():,} bookings, {BookingGuest.objects.count():,} guest rows, "
        f"{Payment.objects.count():,} payments in {time.perf_counter() - started:.0f} s"
    )


def check_search_text() -> None:
    """The fill's search column says what the application would have written (a sample of 500 payments)."""
    from mpesa.models import Payment
    from mpesa.search_text import booking_search_texts

    sample = dict(Payment.objects.order_by("?").values_list("booking_id", "search_text")[:500])
    expected = booking_search_texts(booking_ids=sample)
    wrong = [booking_id for booking_id, text in sample.items() if expected[booking_id] != text]
    if wrong:
        sys.exit(f"search_text differs from the application's for bookings {wrong[:5]}")


def agent_session() -> str:
    """A signed-in support agent with TOTP set up, as a session cookie value."""
    from allauth.mfa.models import Authenticator
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Permission
    from django.contrib.sessions.backends.db import SessionStore

    from core.models import User

    agent, _ = User.objects.get_or_create(email="bench-agent@nexus.test", defaults={"full_name": "Bench Agent"})
    agent.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="mpesa", codename="view_transactions")
    )
    Authenticator.objects.get_or_create(user=agent, type=Authenticator.Type.TOTP, defaults={"data": {"secret": "x"}})
    session = SessionStore()
    session[SESSION_KEY] = str(agent.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]  # as a sign-in names it
    session[HASH_SESSION_KEY] = agent.get_session_auth_hash()
    session.create()
    return session.session_key


def searches() -> dict[str, str]:
    from mpesa.models import Payment

    middle = Payment.objects.order_by("-created_at").values("receipt", "phone", "created_at")[50_000]
    sample = Payment.objects.exclude(receipt=None).order_by("pk").values_list("receipt", flat=True)[123_456]
    local_phone = "0" + middle["phone"][3:6] + " " + middle["phone"][6:9] + " " + middle["phone"][9:]
    day = middle["created_at"].date()
    return {
        "receipt": "/support/?" + urlencode({"q": sample}),
        "phone (local form)": "/support/?" + urlencode({"q": local_phone}),
        "name fragment": "/support/?" + urlencode({"q": "wanjiku kar"}),
        "date range": "/support/?" + urlencode({"date_from": day - datetime.timedelta(days=7), "date_to": day}),
    }


def queries_per_page(path: str, session_key: str) -> tuple[int, int]:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, HTTP_HOST="127.0.0.1")
    if response.status_code != 200:
        sys.exit(f"{path} answered {response.status_code}")
    return len(queries), response.content.decode().count("data-payment=")


def profile(path: str, session_key: str, *, repeat: int) -> None:
    """The page served `repeat` times in this process under cProfile: where its Python time goes."""
    import cProfile
    import pstats

    from django.conf import settings
    from django.test import Client

    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    for _ in range(20):  # warm: templates compiled, connection open
        client.get(path, HTTP_HOST="127.0.0.1")
    started = time.process_time()
    for _ in range(repeat):
        client.get(path, HTTP_HOST="127.0.0.1")
    plain = (time.process_time() - started) * 1000 / repeat
    profiler = cProfile.Profile(time.process_time)  # CPU time: waiting for PostgreSQL is not this process's cost
    profiler.enable()
    for _ in range(repeat):
        client.get(path, HTTP_HOST="127.0.0.1")
    profiler.disable()
    stats = pstats.Stats(profiler)
    calls = stats.total_calls // repeat  # type: ignore[attr-defined]
    print(f"in one process (test client, no gunicorn): {plain:.2f} ms of CPU a page, {calls:,} Python calls")
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = bench_arguments(__doc__.split("\n\n")[0], clients=8, seconds=20)
    parser.add_argument("--payments", type=int, default=200_000)
    parser.add_argument("--listings", type=int, default=2_000)
    parser.add_argument("--guests", type=int, default=20_000)
    parser.add_argument("--profile", metavar="SEARCH", help="profile this search in one process instead of the load")
    options = parser.parse_args()
    require_postgres(options.database_url)
    configure(options.database_url)
    fill(listings=options.listings, guests=options.guests, payments=options.payments)
    session_key = agent_session()
    paths = searches()
    if options.profile:
        profile(paths[options.profile], session_key, repeat=200)
        return
    counts = {name: queries_per_page(path, session_key) for name, path in paths.items()}

    from django.db import connection

    connection.close()
    figures = {}
    port = free_port()
    signed_in = {"Cookie": f"sessionid={session_key}"}
    with gunicorn(port):
        # The baseline, measured as the pages are (same clients, same seconds): no template, one trivial query.
        figures[BASELINE] = load(port, BASELINE, clients=options.clients, seconds=options.seconds)
        for name, path in paths.items():
            figures[name] = load(port, path, clients=options.clients, seconds=options.seconds, headers=signed_in)
            figures[name]["queries"], figures[name]["rows"] = counts[name]
    print(f"gunicorn 2 workers x 4 threads, {options.clients} clients, {options.seconds:.0f} s a page")
    print(f"{'page':<20} {'p50 ms':>7} {'p95 ms':>7} {'req/s':>7} {'rows':>5} {'errors':>6}  path")
    for name, f in figures.items():
        print(
            f"{name:<20} {f['p50_ms']:>7.1f} {f['p95_ms']:>7.1f} {f['rps']:>7.0f} {f.get('rows', ''):>5} "
            f"{f['errors']:>6}  {paths.get(name, BASELINE)}"
        )
    for name, f in figures.items():
        print(f"{name:<20} {cpu_line(f)}")
    for line in ratio_lines(figures, targets=dict.fromkeys(paths, TARGET)):
        print(line)
    same = len({queries for queries, _ in counts.values()}) == 1
    print(f"queries per page {'the same for every search' if same else 'DIFFER'}")
    if options.json:
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
