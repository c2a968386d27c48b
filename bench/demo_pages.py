"""Demo-data bench: the pages a visitor of the demo site opens, through gunicorn, as ratios to /healthz.

Seeds a scratch PostgreSQL database exactly as `make run` does (migrate, createcachetable, seed_demo; run again it
creates nothing new), runs gunicorn (2 workers x 4 threads) with production settings and DEBUG off, and loads, as
an anonymous visitor, each page for --seconds from --clients keep-alive clients on loopback:

- /healthz, the baseline of the same run;
- the dated search (every demo listing, 2 guests) with dates that change from request to request, so that each
  search is computed;
- a demo listing's property page with its calendar month and its quote, dates changing from request to request;
- the home page and an undated search, which anonymous visitors get from a cache for up to a minute: each is
  measured warm (the same URL again and again, answered from the cache) and cold (a different, ignored query
  parameter on every request, so that every request misses the cache, is computed and stored).

Prints each page's requests/s and server CPU per request as a ratio to /healthz, beside its target. With
--profile, also profiles the property page in this process (cProfile) and prints where its time goes. With
--accept-gzip every request asks for gzip; with --gzip-too each page is measured twice in the same turns, plain and
gzipped (", gzip"), so that compression's cost is read beside the same /healthz rather than from two runs minutes
apart.

Not part of the test suite. Run it against a scratch database:

    createdb -h 127.0.0.1 -U postgres nexus_demo_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nexus_demo_bench .venv/bin/python bench/demo_pages.py
"""

import datetime
import json
import os
import sys
import tempfile
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
    load_cycle,
    load_in_turns,
    ratio_lines,
    require_postgres,
)

# Issue 21's targets on the demo data: requests/s as a ratio to /healthz of the same run.
TARGETS = {"search, dated": 0.2, "property page": 0.25}
GZIP = {"Accept-Encoding": "gzip"}  # what --accept-gzip and --gzip-too send
GUESTS = 2
# Check-in days from tomorrow on, each with stays of 2, 3 and 4 nights: 270 different stays.
CHECK_IN_DAYS = range(1, 91)
STAY_NIGHTS = (2, 3, 4)
COLD_VARIANTS = 200_000  # more than any run sends: a cold page never repeats a URL
UNDATED_SEARCH = "/listings/?where=Kwale"


def seed() -> None:
    """As `make run`: migrate and createcachetable (configure() did both), then seed_demo."""
    from django.core.management import call_command

    call_command("seed_demo", force=True, verbosity=0)


def demo_listing_slug() -> str:
    """The first published listing of the demo set: the page a visitor of the demo opens first."""
    from django.utils.text import slugify

    from demo.listings import DEMO_LISTINGS

    return next(slugify(demo.title) for demo in DEMO_LISTINGS if demo.published)


def stays(today: datetime.date) -> list[str]:
    """Query strings of different stays, interleaved so that consecutive requests differ in month and length."""
    queries = []
    for nights in STAY_NIGHTS:
        for days in CHECK_IN_DAYS:
            check_in = today + datetime.timedelta(days=days)
            check_out = check_in + datetime.timedelta(days=nights)
            queries.append(f"check_in={check_in}&check_out={check_out}&guests={GUESTS}")
    return queries[::2] + queries[1::2]


def pages(today: datetime.date, slug: str) -> dict[str, list[str]]:
    """Each measured page and the URLs its clients cycle through."""
    dated = stays(today)
    return {
        "search, dated": [f"/listings/?{query}" for query in dated],
        "property page": [f"/listings/{slug}/?{query}" for query in dated],
        "home, warm (cached)": ["/"],
        "home, cold (computed)": [f"/?visit={n}" for n in range(COLD_VARIANTS)],
        "search undated, warm": [UNDATED_SEARCH],
        "search undated, cold": [f"{UNDATED_SEARCH}&visit={n}" for n in range(COLD_VARIANTS)],
    }


def queries_per_page(urls: list[str]) -> int:
    """The SQL queries one anonymous request to the page sends, in this process: after a first request to urls[0],
    a request to urls[1] (another stay, or a cold page's next URL, which misses the cache) or to urls[0] again (a
    warm page, from the cache)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.get(urls[0])
    path = urls[1] if len(urls) > 1 else urls[0]
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    if response.status_code != 200:
        sys.exit(f"{path} answered {response.status_code}")
    return len(queries)


def profile(path: str, *, requests: int = 200) -> None:
    """cProfile of `requests` anonymous requests to `path` in this process: calls and the costliest functions."""
    import cProfile
    import pstats
    import time

    from django.test import Client

    client = Client()
    for _ in range(20):
        client.get(path)
    started = time.process_time()
    for _ in range(requests):
        client.get(path)
    cpu = (time.process_time() - started) * 1000 / requests
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(path)
    profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"profile of {path}: {cpu:.2f} ms of CPU a request in this process (unprofiled), "
          f"{stats.total_calls / requests:,.0f} Python calls a request")  # fmt: skip
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = bench_arguments(__doc__.split("\n\n")[0], clients=8, seconds=20)
    parser.add_argument("--profile", action="store_true", help="profile the property page in this process too")
    parser.add_argument("--only", default="", help="measure only the pages whose name contains this text")
    parser.add_argument(
        "--accept-gzip",
        action="store_true",
        help="send Accept-Encoding: gzip with every request, as browsers and many load generators do",
    )
    parser.add_argument(
        "--gzip-too",
        action="store_true",
        help="measure each page a second time with Accept-Encoding: gzip, in the same turns and gunicorn",
    )
    options = parser.parse_args()
    require_postgres(options.database_url)
    # The demo photos go to a directory of this database's, outside the checkout, kept for the next run's pages.
    media = Path(tempfile.gettempdir()) / f"nexus-demo-bench-media-{options.database_url.rsplit('/', 1)[-1]}"
    configure(options.database_url, ALLOWED_HOSTS="127.0.0.1,localhost,testserver", MEDIA_ROOT=str(media))
    seed()

    from django.db import connection
    from django.utils import timezone

    paths = pages(timezone.localdate(), demo_listing_slug())
    property_page = paths["property page"][0]
    if options.only:
        paths = {name: urls for name, urls in paths.items() if options.only in name}
    queries = {"/healthz": queries_per_page(["/healthz"])}
    queries.update({name: queries_per_page(urls) for name, urls in paths.items()})
    if options.profile:
        profile(property_page)
    connection.close()
    # Each page and the headers it is asked with: a gzipped twin of each page is measured beside the same /healthz.
    headers = GZIP if options.accept_gzip else {}
    asked = {name: (urls, headers) for name, urls in paths.items()}
    if options.gzip_too:
        asked.update({f"{name}, gzip": (urls, GZIP) for name, urls in paths.items()})
        queries.update({f"{name}, gzip": queries[name] for name in paths})

    load_before = os.getloadavg()[0]
    port = free_port()
    with gunicorn(port):
        if options.turns > 1:
            plan = {"/healthz": (["/healthz"], headers), **asked}
            figures = load_in_turns(port, plan, clients=options.clients, seconds=options.seconds, turns=options.turns)
        else:
            figures = {
                "/healthz": load(port, "/healthz", clients=options.clients, seconds=options.seconds, headers=headers)
            }
            for name, (urls, sent) in asked.items():
                figures[name] = load_cycle(port, urls, clients=options.clients, seconds=options.seconds, headers=sent)
    for name, f in figures.items():
        f["queries"] = queries[name]
    print(
        f"demo data as `make run` seeds it; gunicorn 2 workers x 4 threads, DEBUG off, anonymous; "
        f"{options.clients} clients, {options.seconds:.0f} s a page"
        f"{', Accept-Encoding: gzip' if options.accept_gzip else ', no Accept-Encoding'}"
        f"{' (each page again with it, named so)' if options.gzip_too else ''}; {os.cpu_count()} CPUs, "
        f"load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after"
    )
    for name, urls in paths.items():
        print(f"{name}: {urls[0]}{f' ... ({len(urls):,} URLs in turn)' if len(urls) > 1 else ''}")
    print(
        "warm: the same URL again and again, answered from the page cache (anonymous home and undated search, "
        "up to a minute); cold: a different ignored parameter on every request, so each one is computed and stored; "
        "queries: one request in this process (a warm page's from the cache)."
    )
    targets = {**TARGETS, **{f"{name}, gzip": target for name, target in TARGETS.items()}}
    print("\n".join(ratio_lines(figures, targets=targets)))
    for name, f in figures.items():
        print(f"{name:<24} p50 {f['p50_ms']:.1f} ms, p95 {f['p95_ms']:.1f} ms, errors {f['errors']}; {cpu_line(f)}")
    if options.json:
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
