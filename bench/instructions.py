"""Instructions a request costs in one process, counted by valgrind's callgrind: a figure that does not drift.

The CPU a page costs on this shared machine moves by up to 30% between runs, which hides a change of a few percent.
Callgrind counts the instructions the process executes instead: the same to 0.1% from run to run, so two versions
of the code can be compared one after the other. Production settings on a scratch database that `make run`'s demo
data fills (as bench/demo_pages.py seeds it); each URL is requested --requests times through the served site's WSGI
handler (config/wsgi.py's, as gunicorn runs it, without gunicorn or a network), anonymous, after --warm requests that
compile templates and open the connection, and only those requests are counted (callgrind's instrumentation is
switched on around them).

Prints the instructions a request costs for /healthz and for each page: the dated search and the property page
with dates that change from request to request, as bench/demo_pages.py sends them, the payment-status poll of a
guest signed in whose payment is pending (made as bench/poll.py makes it, with its session cookie and HX-Request,
the one request that is not anonymous), and any --path given.

With --cold MB, each counted request follows MB of memory written, as the other processes of a served copy (the
other worker, PostgreSQL's backend, the load generator) leave the caches between two requests of a worker, and
callgrind simulates the caches (a 32 KB instruction cache, a 48 KB data cache, a 2 MB last-level one): it prints
beside the instructions the misses of the last level a request causes (code and data read, data written), the
writing's own misses taken away. Each is a trip to memory: through gunicorn a page costs about twice what it costs
warm in one loop, and these misses are where that time goes (docs/benchmarks.md, "Measured with wrk").

Needs valgrind (Debian's package). Not part of the test suite. Run it against a scratch database:

    createdb -h 127.0.0.1 -U postgres nexus_demo_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nexus_demo_bench .venv/bin/python bench/instructions.py
"""

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import configure, require_postgres  # noqa: E402
from bench.demo_pages import demo_listing_slug, seed, stays  # noqa: E402
from bench.poll import POLL, pending_payment_session  # noqa: E402

COUNTED = "NEXUS_INSTRUCTIONS_COUNTED"  # set in the process that valgrind runs
WRITING_ONLY = "(writing only)"  # --cold's memory writing with no request, counted to be taken away
CACHE_LINE = 64
# As this machine's caches are, roughly: 32 KB for code and 48 KB for data close to the core, then 2 MB.
SIMULATED_CACHES = ["--I1=32768,8,64", "--D1=49152,12,64", "--LL=2097152,16,64"]


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--requests", type=int, default=60, help="requests counted per page")
    parser.add_argument("--warm", type=int, default=20, help="requests per page before counting")
    parser.add_argument("--path", action="append", default=[], help="another URL to count (repeatable)")
    parser.add_argument(
        "--cold",
        type=float,
        default=0,
        metavar="MB",
        help="write MB of memory before each counted request and count "
        "the misses of a simulated 2 MB last-level cache (0: caches left warm, instructions only)",
    )
    parser.add_argument(
        "--accept-gzip", action="store_true", help="send Accept-Encoding: gzip, as browsers do (pages come compressed)"
    )
    return parser.parse_args()


def pages(paths: list[str]) -> dict[str, list[str]]:
    from django.utils import timezone

    dated = stays(timezone.localdate())
    slug = demo_listing_slug()
    chosen = {
        "/healthz": ["/healthz"],
        "search, dated": [f"/listings/?{query}" for query in dated],
        "property page": [f"/listings/{slug}/?{query}" for query in dated],
        POLL: [],  # made in the process that counts it (poll_and_headers): a guest, a booking, payments
    }
    chosen.update({path: [path] for path in paths})
    return chosen


def poll_and_headers() -> tuple[list[str], dict[str, str]]:
    """The poll's URL, and its session cookie and HX-Request as the browser sends them."""
    from django.conf import settings

    from listings.models import Listing

    path, session_key = pending_payment_session()
    # The poll's listing is the bench's own: unpublished (the poll does not read it), so that the demo pages counted
    # in later runs show what `make run` seeds and nothing more.
    Listing.objects.filter(slug__startswith="bench-poll-").update(is_published=False)
    return [path], {"HX-Request": "true", "cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}"}


def callgrind(switch: str) -> None:
    subprocess.run(["callgrind_control", "-i", switch, str(os.getpid())], check=True, capture_output=True)


def count_one_page(
    urls: list[str], *, requests: int, warm: int, accept_gzip: bool, sent: dict[str, str], cold_mb: float = 0
) -> None:
    """In the process valgrind runs: the page's requests (with the `sent` headers), counted; with `cold_mb`, each
    after that many megabytes written (no URLs: the writing alone, counted)."""
    from django.test import RequestFactory

    # The served site's handler, with the worker's collector settings (a frozen start, fewer collections).
    from config.wsgi import application as handler

    factory = RequestFactory()
    others = bytearray(int(cold_mb * 2**20))
    a_line_each = bytes(len(others) // CACHE_LINE)

    def request(path: str) -> None:
        headers = {**sent, "accept-encoding": "gzip"} if accept_gzip else sent
        environ = dict(factory.generic("GET", path, headers=headers).environ, **{"wsgi.input": io.BytesIO(b"")})
        statuses = []
        response = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
        b"".join(response)
        response.close()
        if not statuses[0].startswith("200"):
            sys.exit(f"{path} answered {statuses[0]}")

    for number in range(warm if urls else 0):
        request(urls[number % len(urls)])
    callgrind("on")
    for number in range(requests):
        if others:
            others[::CACHE_LINE] = a_line_each  # one byte of every cache line: the whole buffer passes the caches
        if urls:
            request(urls[(warm + number) % len(urls)])
    callgrind("off")


def events_per_request(name: str, options: argparse.Namespace) -> dict[str, float]:
    """Run this script under callgrind for one page; its counts (instructions "Ir", and with --cold the last-level
    cache's misses "ILmr", "DLmr", "DLmw") over the requests."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        extra = [argument for path in options.path for argument in ("--path", path)]
        extra += ["--accept-gzip"] if options.accept_gzip else []
        extra += ["--cold", str(options.cold)] if options.cold else []
        caches = ["--cache-sim=yes", *SIMULATED_CACHES] if options.cold else []
        command = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}", *caches,
            sys.executable, __file__, "--database-url", options.database_url, "--requests", str(options.requests),
            "--warm", str(options.warm), *extra,
        ]  # fmt: skip
        env = {**os.environ, COUNTED: name, "PYTHONHASHSEED": "0"}
        subprocess.run(command, env=env, check=True, capture_output=True)
        text = out.read_text()
        events = re.search(r"^events: (.+)$", text, re.M).group(1).split()
        totals = re.search(r"^totals: (.+)$", text, re.M).group(1).split()
        return {event: int(total) / options.requests for event, total in zip(events, totals, strict=True)}


def main() -> None:
    options = arguments()
    require_postgres(options.database_url)
    media = Path(tempfile.gettempdir()) / f"nexus-demo-bench-media-{options.database_url.rsplit('/', 1)[-1]}"
    configure(options.database_url, ALLOWED_HOSTS="127.0.0.1,localhost,testserver", MEDIA_ROOT=str(media))
    counted = os.environ.get(COUNTED)
    if counted:
        if counted == WRITING_ONLY:
            urls, sent = [], {}
        else:
            urls, sent = poll_and_headers() if counted == POLL else (pages(options.path)[counted], {})
        count_one_page(
            urls, requests=options.requests, warm=options.warm, accept_gzip=options.accept_gzip, sent=sent,
            cold_mb=options.cold,
        )  # fmt: skip
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    seed()
    figures = {name: events_per_request(name, options) for name in pages(options.path)}
    # With --cold, the writing's own counts are taken away from each page's.
    writing = events_per_request(WRITING_ONLY, options) if options.cold else dict.fromkeys(figures["/healthz"], 0)
    net = {
        name: {event: max(count - writing[event], 0) for event, count in events.items()}
        for name, events in figures.items()
    }
    print(
        f"instructions a request in one process (callgrind), {options.requests} requests a page after {options.warm}"
        f"{', Accept-Encoding: gzip' if options.accept_gzip else ''}"
    )
    baseline = net["/healthz"]
    for name, events in net.items():
        print(f"{name:<24} {events['Ir'] / 1e6:7.2f} M  ({events['Ir'] / baseline['Ir']:5.1f} x /healthz)")
    if not options.cold:
        return
    print(
        f"misses of a 2 MB last-level cache a request, after {options.cold:g} MB written (the writing's own taken"
        " away): code read, data read, data written, all"
    )
    base_misses = sum(baseline[event] for event in ("ILmr", "DLmr", "DLmw"))
    for name, events in net.items():
        misses = [events[event] for event in ("ILmr", "DLmr", "DLmw")]
        print(
            f"{name:<24} {misses[0] / 1e3:6.1f} k {misses[1] / 1e3:6.1f} k {misses[2] / 1e3:6.1f} k"
            f" {sum(misses) / 1e3:6.1f} k  ({sum(misses) / base_misses:4.1f} x /healthz)"
        )


if __name__ == "__main__":
    main()
