"""Page weight on a phone: what the first load of home, search and a property page costs over the network.

Seeds the demo data into a scratch database (photos on a scratch disk), serves it with gunicorn and production
settings (DEBUG off, photos from the declared disk, static files collected and pre-compressed), then opens each
page in a fresh chromium context at 360 x 740 CSS px and device pixel ratio 2, waits until the network is quiet,
without scrolling, and adds up the bytes received as sent on the wire (compressed where the server compressed):
HTML + CSS + JS (photos excluded), and separately the photos.

Budgets: HTML + CSS + JS of each first load at most 60 KB, photos requested by the search page at most 150 KB.
Exits with status 1 when a budget is exceeded or a request failed.

Not part of the test suite. Run it against a scratch database:

    createdb -h 127.0.0.1 -U postgres nexus_weight
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nexus_weight .venv/bin/python bench/page_weight.py
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import configure, free_port, gunicorn  # noqa: E402

KB = 1024
PAGE_BUDGET = 60 * KB
SEARCH_PHOTO_BUDGET = 150 * KB
VIEWPORT = {"width": 360, "height": 740}
DEVICE_SCALE_FACTOR = 2
CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"


def prepare(database_url: str, media_root: str) -> None:
    """Production settings on `database_url` with photos on the declared disk `media_root`, migrated, seeded."""
    configure(database_url, MPESA_ENV="emulator", SMS_ENV="emulator", MEDIA_ROOT=media_root, MEDIA_PERSISTENT_DISK="1")
    from django.core.management import call_command

    call_command("seed_demo", force=True, verbosity=0, stdout=open(os.devnull, "w"))


def first_load(browser, url: str) -> dict:
    """One page's first load in a fresh context (empty cache): bytes by kind, and any failed request."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=DEVICE_SCALE_FACTOR)
    page = context.new_page()
    received: list[tuple[str, str, int]] = []
    failed: list[str] = []

    def finished(request) -> None:
        response = request.response()
        size = request.sizes()["responseBodySize"]  # the body as received: compressed when it came compressed
        if response is not None and response.status >= 400:
            failed.append(f"{response.status} {request.url}")
        received.append((request.resource_type, request.url, size))

    page.on("requestfinished", finished)
    page.on("requestfailed", lambda request: failed.append(f"{request.failure} {request.url}"))
    page.goto(url, wait_until="networkidle")
    context.close()
    photos = [(address, size) for kind, address, size in received if kind == "image"]
    return {
        "page_bytes": sum(size for kind, _address, size in received if kind != "image"),
        "photo_bytes": sum(size for _address, size in photos),
        "photos": photos,
        "requests": len(received),
        "failed": failed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show-photos", action="store_true", help="list each photo requested and its size")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a scratch PostgreSQL database.")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="nexus-weight-media-") as media_root:
        prepare(database_url, media_root)
        from listings.models import Listing

        listing = Listing.objects.filter(is_published=True).order_by("created_at", "id").first()
        pages = {
            "home": "/",
            "search": "/listings/",
            "property page": listing.get_absolute_url(),
        }
        port = free_port()
        over_budget = False
        with gunicorn(port) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless=new"])
            print(f"First load at {VIEWPORT['width']}x{VIEWPORT['height']} CSS px, DPR {DEVICE_SCALE_FACTOR}:")
            print(f"{'page':<15} {'HTML+CSS+JS':>12} {'photos':>10} {'requests':>9}")
            for name, path in pages.items():
                figures = first_load(browser, base + path)
                print(
                    f"{name:<15} {figures['page_bytes'] / KB:>9.1f} KB {figures['photo_bytes'] / KB:>7.1f} KB"
                    f" {figures['requests']:>9}"
                )
                if args.show_photos:
                    for address, size in figures["photos"]:
                        print(f"    {size / KB:7.1f} KB  {address.removeprefix(base)}")
                for failure in figures["failed"]:
                    print(f"    FAILED: {failure.removeprefix(base)}")
                    over_budget = True
                if figures["page_bytes"] > PAGE_BUDGET:
                    print(f"    over the {PAGE_BUDGET // KB} KB budget for HTML + CSS + JS")
                    over_budget = True
                if name == "search" and figures["photo_bytes"] > SEARCH_PHOTO_BUDGET:
                    print(f"    over the {SEARCH_PHOTO_BUDGET // KB} KB budget for the search page's photos")
                    over_budget = True
            browser.close()
        print(f"Budgets: {PAGE_BUDGET // KB} KB HTML+CSS+JS a page, {SEARCH_PHOTO_BUDGET // KB} KB photos on search.")
    return 1 if over_budget else 0


if __name__ == "__main__":
    sys.exit(main())
