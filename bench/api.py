"""API benchmark: the API's listing search beside the HTML search page and /healthz, in one gunicorn run.

The same data and the same 3-night, 2-guest search in one county as bench/search.py (it fills the scratch database
the same way, and skips the fill when the data is there), then gunicorn (2 workers x 4 threads) with production
settings and concurrent keep-alive clients on loopback, each path in turn: /healthz (the baseline), the search page
and GET /api/v1/listings/ with the same parameters. Prints p50, p95, requests/s, queries per request and the CPU
each request cost gunicorn, PostgreSQL and the clients, and each page's ratio to /healthz of the same run (the search
page's target beside it). The API's call limit is raised out of the way, but its
counter still runs (one upsert a request), as deployed.

Not part of the test suite. Run it against a scratch database:

    createdb -h 127.0.0.1 -U postgres nexus_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nexus_bench .venv/bin/python bench/api.py
"""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import configure, cpu_line, free_port, gunicorn, load, ratio_lines, require_postgres  # noqa: E402
from bench.search import BENCH_COUNTY, SEARCH_TARGET, fill_from, search_arguments, search_path  # noqa: E402


def queries_of(path: str):
    """Queries one request issues once warm (the first call of a minute also tidies the call counter's old
    windows), and its response."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    Client().get(path)
    with CaptureQueriesContext(connection) as queries:
        response = Client().get(path)
    if response.status_code != 200:
        sys.exit(f"{path} answered {response.status_code}: {response.content[:300]!r}")
    return len(queries), response


def main() -> None:
    options = search_arguments(__doc__.split("\n\n")[0]).parse_args()
    require_postgres(options.database_url)
    configure(
        options.database_url,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        API_CALLS_PER_MINUTE_ANON="1000000000",
        API_CALLS_PER_MINUTE_USER="1000000000",
    )
    fill_from(options)

    from django.db import connection
    from django.utils import timezone

    page = search_path(timezone.localdate())
    api = page.replace("/listings/?", "/api/v1/listings/?", 1)
    paths = {"/healthz": "/healthz", "search page": page, "API search": api}
    queries = {name: queries_of(path)[0] for name, path in paths.items()}
    found = queries_of(api)[1].json()["count"]
    connection.close()

    load_before = os.getloadavg()[0]
    port = free_port()
    with gunicorn(port):
        figures = {
            name: {**load(port, path, clients=options.clients, seconds=options.seconds), "queries": queries[name]}
            for name, path in paths.items()
        }
    print(
        f"gunicorn 2 workers x 4 threads, {options.clients} clients, {options.seconds:.0f} s each; "
        f"the search finds {found} places in {BENCH_COUNTY.title()}; {os.cpu_count()} CPUs, "
        f"load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after"
    )
    for name, path in paths.items():
        print(f"{name:<12} {path}")
    print(f"{'':<12} {'p50 ms':>7} {'p95 ms':>7} {'req/s':>7} {'queries':>7} {'errors':>6}")
    for name, f in figures.items():
        print(f"{name:<12} {f['p50_ms']:>7.1f} {f['p95_ms']:>7.1f} {f['rps']:>7.0f} {f['queries']:>7} {f['errors']:>6}")
    for name, f in figures.items():
        print(f"{name:<12} {cpu_line(f)}")
    print()
    print("\n".join(ratio_lines(figures, targets={"search page": SEARCH_TARGET})))
    if options.json:
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
