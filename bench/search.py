"""Search benchmark: a 3-night, 2-guest search in one county against 10,000 listings through gunicorn.

Fills a PostgreSQL database with 10,000 listings, 1,000,000 per-night calendar rows and 200,000 bookings, and the
nights that confirmed bookings keep (skipped when the data is already there), then runs gunicorn (2 workers x 4
threads) with production settings and sends requests from 8 concurrent clients on loopback for 20 s: first to
/healthz (the baseline: no template, one trivial query), then to the search page. Prints each page's requests/s
and server CPU per request as a ratio to /healthz of the same run, beside the target (0.12), with p50, p95, the SQL
queries each page issues and the Python calls of one search page in this process.

Not part of the test suite. Run it against a scratch database:

    createdb -h 127.0.0.1 -U postgres nexus_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nexus_bench .venv/bin/python bench/search.py
"""

import cProfile
import datetime
import json
import os
import pstats
import re
import sys
import time
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
    ratio_lines,
    require_postgres,
)

BENCH_COUNTY = "kwale"
# The search page's requests/s as a ratio to /healthz of the same run (issue 21).
SEARCH_TARGET = 0.12
# Where the listings are: a few popular counties and a long tail, like a real catalogue.
COUNTY_WEIGHTS = {
    "nairobi": 25,
    "mombasa": 12,
    "kwale": 10,
    "kilifi": 8,
    "nakuru": 6,
    "laikipia": 4,
    "kisumu": 4,
    "lamu": 3,
}


def county_array() -> str:
    """100 county codes, as often as their weight, the rest spread over the other counties."""
    from listings.models import County

    codes = []
    for code, weight in COUNTY_WEIGHTS.items():
        codes += [code] * weight
    others = [c for c in County.values if c not in COUNTY_WEIGHTS]
    while len(codes) < 100:
        codes.append(others[len(codes) % len(others)])
    return "ARRAY[" + ",".join(f"'{c}'" for c in codes) + "]"


def _insert_select(model, expressions: dict[str, str], source: str) -> str:
    """INSERT INTO model's table (every concrete column) SELECT the given SQL expressions FROM source."""
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.column not in expressions:
            raise SystemExit(f"bench/search.py does not know how to fill {model.__name__}.{field.name}; add it.")
        columns.append(f'"{field.column}"')
        values.append(expressions[field.column])
    return f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {source}"


def fill(*, listings: int, nights_per_listing: int, bookings_per_listing: int) -> None:
    from django.db import connection, transaction

    from core.models import User
    from listings.models import CalendarDay, Listing

    existing = Listing.objects.filter(slug__startswith="bench-").count()
    if existing == listings:
        print(f"data: {existing:,} bench listings already there, not refilled")
        return
    if existing:
        sys.exit(f"{existing:,} bench listings exist, not {listings:,}: use a fresh database.")
    started = time.perf_counter()
    host, _ = User.objects.get_or_create(email="bench-host@nexus.test", defaults={"full_name": "Bench Host"})
    guest, _ = User.objects.get_or_create(email="bench-guest@nexus.test", defaults={"full_name": "Bench Guest"})
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _insert_select(
                Listing,
                {
                    "created_at": "now() - g * interval '1 minute'",
                    "updated_at": "now()",
                    "host_id": str(host.pk),
                    "title": "'Bench place ' || g",
                    "slug": "'bench-' || g",
                    "description": "'A place to stay.'",
                    "property_type": "(ARRAY['apartment','house','cottage','villa','room'])[1 + g % 5]",
                    "county": f"({county_array()})[1 + (g * 37) % 100]",
                    "town": "'Town ' || (g % 40)",
                    "max_guests": "1 + g % 8",
                    "bedrooms": "1 + g % 4",
                    "beds": "1 + g % 6",
                    "bathrooms": "1 + g % 3",
                    "nightly_price_kes": "2500 + (g * 7919) % 42500",
                    "cleaning_fee_kes": "(g % 5) * 500",
                    "weekly_discount_percent": "(g % 3) * 5",
                    "monthly_discount_percent": "(g % 4) * 5",
                    "min_nights": "1 + g % 3",
                    "max_nights": "30 + g % 60",
                    "advance_notice_days": "g % 3",
                    "same_day_cutoff_hour": "18",
                    "check_in_time": "time '14:00'",
                    "check_out_time": "time '10:00'",
                    "house_rules": "''",
                    "cancellation_policy": "(ARRAY['flexible','moderate','strict'])[1 + g % 3]",
                    "is_published": "g % 20 <> 0",
                    # Some rated (three reviews or more, averages 3 to 5), some "New".
                    "review_count": "g % 7",
                    "rating_sum": "(g % 7) * (3 + g % 3)",
                    "street_address": "''",
                    "directions": "''",
                    "check_in_instructions": "''",
                    "host_phone": "''",
                },
                f"generate_series(1, {listings}) AS g",
            )
        )
        # Distinct dates per listing: 37 and 365 have no common factor.
        cursor.execute(
            _insert_select(
                CalendarDay,
                {
                    "listing_id": "l.id",
                    "date": "current_date + ((k * 37 + l.id * 13) % 365)::int",
                    "blocked": "(k + l.id) % 4 = 0",
                    "note": "''",
                    "price_override_kes": "CASE WHEN (k + l.id) % 4 = 1 THEN l.nightly_price_kes + 1000 END",
                    "min_nights_override": "CASE WHEN (k + l.id) % 10 = 2 THEN 3 END",
                },
                f"listings_listing l CROSS JOIN generate_series(0, {nights_per_listing - 1}) AS k "
                "WHERE l.slug LIKE 'bench-%'",
            )
        )
        booking_count = _fill_bookings(cursor, guest=guest, per_listing=bookings_per_listing)
    nights = _fill_booked_nights()
    with connection.cursor() as cursor:
        # As autovacuum would soon after a bulk load: fresh statistics, a visibility map for index-only scans,
        # and the trigram indexes' pending lists merged (a search reads them linearly until then).
        cursor.execute("VACUUM ANALYZE")
    calendar_rows = CalendarDay.objects.count()
    print(
        f"data: {listings:,} listings, {calendar_rows:,} calendar rows, {booking_count:,} bookings "
        f"({nights:,} nights kept by confirmed ones) in {time.perf_counter() - started:.0f} s"
    )


def _fill_booked_nights() -> int:
    """The nights the bulk-loaded bookings keep, as the booking services would have written them."""
    from reservations.services import booked_nights_fill

    return booked_nights_fill()


def _fill_bookings(cursor, *, guest, per_listing: int) -> int:
    """Bookings that never overlap on one listing: held (some lapsed), cancelled and confirmed."""
    try:
        from reservations.models import Booking
    except ImportError:
        return 0
    check_in = "(current_date + (5 + j * 17 + l.id % 9)::int)"
    cursor.execute(
        _insert_select(
            Booking,
            {
                "created_at": "now() - interval '3 days'",
                "updated_at": "now()",
                "ref": "'BX' || l.id || '-' || j",
                "listing_id": "l.id",
                "booker_id": str(guest.pk),
                "check_in": check_in,
                "check_out": f"{check_in} + (2 + (l.id + j) % 4)::int",
                "guest_count": "2",
                "status": "CASE j % 5 WHEN 0 THEN 'held' WHEN 1 THEN 'cancelled' ELSE 'confirmed' END",
                "blocks_until": "CASE j % 5 WHEN 0 THEN now() + (CASE WHEN l.id % 2 = 0 THEN 1 ELSE -1 END)"
                " * interval '10 minutes' END",
                "idempotency_key": "'bench-' || l.id || '-' || j",
                "nights": "'[]'::jsonb",
                "nights_total_kes": "l.nightly_price_kes * 3",
                "discount_name": "''",
                "discount_percent": "0",
                "discount_kes": "0",
                "cleaning_fee_kes": "l.cleaning_fee_kes",
                "total_kes": "l.nightly_price_kes * 3 + l.cleaning_fee_kes",
                "cancellation_policy": "l.cancellation_policy",
                "check_in_at": f"({check_in} + time '14:00') AT TIME ZONE 'Africa/Nairobi'",
                "paid_kes": "0",
                "refund_due_kes": "0",
                "refunded_kes": "0",
                "confirmed_at": "CASE WHEN j % 5 > 1 THEN now() END",
                "cancelled_at": "CASE WHEN j % 5 = 1 THEN now() END",
                "cancel_reason": "''",
            },
            f"listings_listing l CROSS JOIN generate_series(0, {per_listing - 1}) AS j WHERE l.slug LIKE 'bench-%'",
        )
    )
    return cursor.rowcount


def search_path(today: datetime.date) -> str:
    # 45 days ahead: among the nights that the filled confirmed bookings and holds take.
    check_in = today + datetime.timedelta(days=45)
    check_out = check_in + datetime.timedelta(days=3)
    return f"/listings/?where={BENCH_COUNTY}&check_in={check_in}&check_out={check_out}&guests=2"


def queries_per_page(path: str) -> tuple[int, str]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = Client().get(path)
    if response.status_code != 200:
        sys.exit(f"{path} answered {response.status_code}")
    found = re.search(r"(\d[\d,]*) places?\s+free", response.content.decode())
    return len(queries), found.group(1) if found else "0"


def python_calls_per_request(path: str, *, requests: int = 20) -> int:
    """Python function calls of one request of `path` in this process (Django's test client, warm)."""
    from django.test import Client

    client = Client()
    client.get(path)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(requests):
        client.get(path)
    profile.disable()
    return round(pstats.Stats(profile).total_calls / requests)


def search_arguments(description: str):
    """bench_arguments and the size of the data (bench/api.py fills the same data)."""
    parser = bench_arguments(description)
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument("--nights-per-listing", type=int, default=100)
    parser.add_argument("--bookings-per-listing", type=int, default=20)
    return parser


def fill_from(options) -> None:
    fill(
        listings=options.listings,
        nights_per_listing=options.nights_per_listing,
        bookings_per_listing=options.bookings_per_listing,
    )


def main() -> None:
    options = search_arguments(__doc__.split("\n\n")[0]).parse_args()
    require_postgres(options.database_url)
    configure(options.database_url, ALLOWED_HOSTS="127.0.0.1,localhost,testserver")
    fill_from(options)

    from django.db import connection
    from django.utils import timezone

    path = search_path(timezone.localdate())
    search_queries, found = queries_per_page(path)
    health_queries, _ = queries_per_page("/healthz")
    calls = python_calls_per_request(path)
    connection.close()

    load_before = os.getloadavg()[0]
    port = free_port()
    with gunicorn(port):
        figures = {
            "/healthz": load(port, "/healthz", clients=options.clients, seconds=options.seconds),
            "search page": load(port, path, clients=options.clients, seconds=options.seconds),
        }
    figures["/healthz"]["queries"] = health_queries
    figures["search page"]["queries"] = search_queries
    print(
        f"gunicorn 2 workers x 4 threads, {options.clients} clients, {options.seconds:.0f} s each; "
        f"the search finds {found} places in {BENCH_COUNTY.title()}; {os.cpu_count()} CPUs, "
        f"load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after"
    )
    print(f"search page: {path}")
    print(f"{'page':<12} {'p50 ms':>7} {'p95 ms':>7} {'req/s':>7} {'queries':>7} {'errors':>6}")
    for page, f in figures.items():
        print(f"{page:<12} {f['p50_ms']:>7.1f} {f['p95_ms']:>7.1f} {f['rps']:>7.0f} {f['queries']:>7} {f['errors']:>6}")
    for page, f in figures.items():
        print(f"{page:<12} {cpu_line(f)}")
    print(f"Python calls of one search page in this process: {calls:,}")
    print()
    print("\n".join(ratio_lines(figures, targets={"search page": SEARCH_TARGET})))
    if options.json:
        print(json.dumps({**figures, "python_calls": calls}, indent=2))


if __name__ == "__main__":
    main()
