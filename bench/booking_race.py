"""Booking race: 50 signed-in guests submit overlapping stays of one listing at the same instant.

Starts gunicorn (2 workers x 4 threads) with production settings on a scratch PostgreSQL database and fires
50 simultaneous booking submissions over loopback, then 10 back-to-back stays (each check-out the next
check-in) at once. Prints holds created, clear refusals, HTTP 5xx and p50/p95 latency, and exits non-zero
unless the first round made exactly one hold with 49 clear refusals, every back-to-back stay was held, and
nothing answered 5xx.

Not part of the test suite. Run it against a scratch database:

    createdb -h 127.0.0.1 -U postgres nexus_race
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nexus_race .venv/bin/python bench/booking_race.py
"""

import datetime
import os
import re
import secrets
import statistics
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import configure, free_port, gunicorn, percentile  # noqa: E402

RACERS = 50
BACK_TO_BACK = 10


class FormFields(HTMLParser):
    """The named inputs of the page's booking form (the one carrying the idempotency key)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {}
            self.forms.append(self._current)
        elif self._current is not None and tag == "input" and attrs.get("name"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            if attrs.get("type") in ("submit", "button"):
                return
            self._current[attrs["name"]] = attrs.get("value", "")
        elif self._current is not None and tag == "select":
            self._select = attrs.get("name")
        elif self._current is not None and tag == "option" and self._select and "selected" in attrs:
            self._current[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._current = None

    def booking_form(self) -> dict:
        return next(form for form in self.forms if "idempotency_key" in form)


def make_people_and_listing():
    from allauth.account.models import EmailAddress
    from django.test import Client

    from core.models import User
    from listings.models import Listing

    suffix = secrets.token_hex(3)
    host = User.objects.create_user(email=f"race-host-{suffix}@example.com", password=None, full_name="Race Host")
    listing = Listing.objects.create(
        host=host,
        title=f"Race cottage {suffix}",
        slug=f"race-cottage-{suffix}",
        county="kwale",
        town="Diani",
        description="A cottage everyone wants.",
        max_guests=4,
        nightly_price_kes=8_000,
        cleaning_fee_kes=1_000,
        is_published=True,
        min_nights=1,
        max_nights=60,
    )
    sessions = []
    for i in range(RACERS + BACK_TO_BACK):
        user = User.objects.create_user(email=f"racer{i}-{suffix}@example.com", password=None, full_name=f"Racer {i}")
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        sessions.append(client.cookies["sessionid"].value)
    return listing, sessions


def prepare(base: str, slug: str, session_id: str, check_in: datetime.date, check_out: datetime.date):
    """GET the booking page as this guest; return (session, url, form fields) ready to submit."""
    http = requests.Session()
    http.cookies.set("sessionid", session_id, domain="127.0.0.1")
    url = f"{base}/listings/{slug}/book/?check_in={check_in}&check_out={check_out}&guests=1"
    page = http.get(url, timeout=30)
    page.raise_for_status()
    # Production cookies are Secure; on plain-HTTP loopback the client must be told to send them anyway.
    http.cookies.set("csrftoken", page.cookies.get("csrftoken"), domain="127.0.0.1")
    parser = FormFields()
    parser.feed(page.text)
    fields = parser.booking_form()
    return http, url, fields


def fire(prepared: list) -> list[tuple[int, float, str]]:
    """Submit every prepared form at the same instant. Returns (status, seconds, body) per submission."""
    barrier = threading.Barrier(len(prepared))
    results: list = [None] * len(prepared)

    def submit(i: int) -> None:
        http, url, fields = prepared[i]
        barrier.wait()
        started = time.perf_counter()
        try:
            response = http.post(url, data=fields, headers={"Referer": url}, allow_redirects=False, timeout=60)
            results[i] = (response.status_code, time.perf_counter() - started, response.text)
        except requests.RequestException as error:
            results[i] = (599, time.perf_counter() - started, str(error))

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(prepared))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


REFUSAL = re.compile(r"(just taken|not available|no longer available|already booked|booked by someone)", re.I)


def classify(results) -> tuple[int, int, int, list[float]]:
    holds = sum(1 for status, _, _ in results if status == 302)
    refusals = sum(1 for status, _, body in results if status in (200, 422) and REFUSAL.search(body))
    errors = sum(1 for status, _, _ in results if status >= 500)
    return holds, refusals, errors, [seconds for _, seconds, _ in results]


def main() -> int:
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        print("Set DATABASE_URL to a scratch PostgreSQL database (see the docstring).")
        return 2
    configure(database_url, BOOKING_HOLDS_PER_HOUR="1000")
    listing, sessions = make_people_and_listing()
    from django.utils import timezone

    day = datetime.timedelta(days=1)
    first = timezone.localdate() + 30 * day
    later = first + 10 * day
    with gunicorn(free_port()) as base:
        # Overlapping but different stays, so no two submissions are the same request.
        race = [
            prepare(base, listing.slug, sessions[i], first + (i % 3) * day, first + (3 + i % 2) * day)
            for i in range(RACERS)
        ]
        results = fire(race)
        holds, refusals, errors, latencies = classify(results)
        chain = [
            prepare(base, listing.slug, sessions[RACERS + k], later + 2 * k * day, later + (2 * k + 2) * day)
            for k in range(BACK_TO_BACK)
        ]
        chain_results = fire(chain)
        chain_holds, _, chain_errors, chain_latencies = classify(chain_results)

    print(f"{RACERS} simultaneous overlapping submissions through gunicorn (2 workers x 4 threads), PostgreSQL")
    print(f"  holds created      {holds}")
    print(f"  clear refusals     {refusals}")
    print(f"  HTTP 5xx           {errors}")
    print(f"  latency p50        {statistics.median(latencies) * 1000:.0f} ms")
    print(f"  latency p95        {percentile(latencies, 0.95) * 1000:.0f} ms")
    print(f"{BACK_TO_BACK} simultaneous back-to-back stays (each check-out the next check-in)")
    print(f"  holds created      {chain_holds} of {BACK_TO_BACK}")
    print(f"  HTTP 5xx           {chain_errors}")
    print(f"  latency p95        {percentile(chain_latencies, 0.95) * 1000:.0f} ms")
    unexplained = [(s, body[:300]) for s, _, body in results if s != 302 and not REFUSAL.search(body)]
    for status, body in unexplained[:3]:
        print(f"  unexplained answer {status}: {body!r}")
    ok = holds == 1 and refusals == RACERS - 1 and errors == 0 and chain_holds == BACK_TO_BACK and chain_errors == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
