"""A served copy of the demo site for a load generator of one's own (wrk, ab, hey, locust...).

Seeds a scratch PostgreSQL database as `make run` does and as bench/demo_pages.py seeds it, serves it with gunicorn
(2 workers x 4 threads, production settings, DEBUG off) on --port until Ctrl-C or --seconds, and writes the paths
the benches send into --paths-dir, one per line, for the load generator to cycle through:

- healthz.txt: /healthz, the baseline;
- search.txt: the dated search of every demo listing for 2 guests, 270 different stays;
- property.txt: the first demo listing's property page with its calendar month and quote, the same 270 stays.

bench/cycle_paths.lua makes wrk send a file's paths in turn, each of wrk's threads from its own place in the list,
so that consecutive requests ask for different stays and each search and property page is computed:

    createdb -h 127.0.0.1 -U postgres nexus_demo_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nexus_demo_bench .venv/bin/python bench/serve_demo.py &
    wrk -t2 -c8 -d10s http://127.0.0.1:8100/healthz
    wrk -t2 -c8 -d10s -s bench/cycle_paths.lua http://127.0.0.1:8100 -- /tmp/nexus-demo-paths/property.txt

The ratio is the page's requests a second over /healthz's, both measured against the same server within minutes
(docs/benchmarks.md, "Measured with wrk", says how they move). Not part of the test suite.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import configure, gunicorn, require_postgres  # noqa: E402
from bench.demo_pages import demo_listing_slug, pages, seed  # noqa: E402

PATHS = {"search.txt": "search, dated", "property.txt": "property page"}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long (0: until Ctrl-C)")
    parser.add_argument("--paths-dir", default=str(Path(tempfile.gettempdir()) / "nexus-demo-paths"))
    return parser.parse_args()


def write_paths(directory: Path) -> None:
    from django.utils import timezone

    directory.mkdir(parents=True, exist_ok=True)
    chosen = pages(timezone.localdate(), demo_listing_slug())
    (directory / "healthz.txt").write_text("/healthz\n")
    for file_name, page in PATHS.items():
        (directory / file_name).write_text("\n".join(chosen[page]) + "\n")


def main() -> None:
    options = arguments()
    require_postgres(options.database_url)
    media = Path(tempfile.gettempdir()) / f"nexus-demo-bench-media-{options.database_url.rsplit('/', 1)[-1]}"
    configure(options.database_url, MEDIA_ROOT=str(media))
    seed()
    paths = Path(options.paths_dir)
    write_paths(paths)
    with gunicorn(options.port) as base:
        print(f"serving the demo data at {base}; paths to cycle through in {paths}/", flush=True)
        try:
            time.sleep(options.seconds or 10**9)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
