"""A served copy as deployed on one instance with a persistent disk: gunicorn, production settings, DEBUG off,
static files collected, photos under MEDIA_ROOT with MEDIA_PERSISTENT_DISK=1. A phone (360 x 740, DPR 2) opens
home, search and a property page: every photo loads, no request fails, images carry srcset and the phone takes the
sizes meant for it, HTML comes compressed and each first load stays within the 60 KB budget."""

import os
import secrets
import socket
import subprocess
import sys
import time
from io import BytesIO
from pathlib import Path

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from listings.services import listing_photo_add, listing_publish
from tests.helpers.browser import PHONE
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent.parent
PAGE_BUDGET = 60 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _photo(seed: int) -> SimpleUploadedFile:
    """A photo with detail enough to weigh what a real one does (a flat colour compresses to nothing)."""
    image = Image.effect_noise((1200, 900), 40 + seed).convert("RGB")
    buffer = BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return SimpleUploadedFile(f"p{seed}.jpg", buffer.getvalue(), "image/jpeg")


@pytest.fixture
def served(settings, tmp_path, make_user):
    """Three published listings with photos on the disk, served by gunicorn; yields (base URL, a listing)."""
    media_root = tmp_path / "media"
    static_root = tmp_path / "static"
    settings.MEDIA_ROOT = str(media_root)
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    host = make_user(email="host@example.com", full_name="Zawadi Mwangi")
    listings = []
    for number in range(3):
        listing = make_listing(host, title=f"Cottage {number}", is_published=False)
        for photo in range(3):
            listing_photo_add(listing=listing, upload=_photo(number * 3 + photo))
        listing_publish(listing=listing)
        listings.append(listing)
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MEDIA_", "MPESA_", "SMS_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": _database_url(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "MPESA_ENV": "emulator",
        "SMS_ENV": "emulator",
        "MEDIA_ROOT": str(media_root),
        "MEDIA_PERSISTENT_DISK": "1",
        "STATIC_ROOT": str(static_root),
    }
    collect = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"]
    subprocess.run(collect, cwd=ROOT, env=env, check=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "4", "--worker-class", "gthread", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        # On a busy machine the worker may take seconds to import the application: a health check that times out
        # (the socket accepted, no answer yet) is tried again like a refused one, until the deadline.
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield base, listings[0]
    finally:
        server.terminate()
        server.wait(timeout=10)


def _first_load(browser, url: str) -> dict:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2)
    page = context.new_page()
    finished, failed, console_errors = [], [], []

    def on_finished(request):
        response = request.response()
        if response is not None and response.status >= 400:
            failed.append(f"{response.status} {request.url}")
        finished.append((request.resource_type, request.url, request.sizes()["responseBodySize"]))

    page.on("requestfinished", on_finished)
    page.on("requestfailed", lambda request: failed.append(f"{request.failure} {request.url}"))
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    page.goto(url, wait_until="networkidle")
    first_load = sum(size for kind, _url, size in finished if kind != "image")
    # Then down the page, so the lazy photos load too.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_load_state("networkidle")
    # The photo viewer's own image stays empty until a photo is opened: the page's photos are the others.
    photos = "[...document.images].filter((img) => !img.hasAttribute('data-viewer-image'))"
    page.wait_for_function(f"{photos}.every((img) => img.complete)")
    images = page.evaluate(
        photos + ".map((img) => ({src: img.currentSrc, srcset: img.srcset, sizes: img.sizes,"
        " natural: img.naturalWidth, width: img.getAttribute('width'), height: img.getAttribute('height'),"
        " loading: img.loading}))"
    )
    context.close()
    return {"first_load": first_load, "images": images, "failed": failed, "console_errors": console_errors}


def test_a_phone_gets_every_photo_small_and_every_page_light_from_a_served_copy(served, browser):
    base, listing = served
    pages = {"home": "/", "search": "/listings/", "property page": listing.get_absolute_url()}
    for name, path in pages.items():
        html = requests.get(base + path, headers={"Accept-Encoding": "gzip"}, timeout=10)
        assert html.headers["Content-Encoding"] == "gzip", name
        seen = _first_load(browser, base + path)
        assert seen["failed"] == [] and seen["console_errors"] == [], (name, seen)
        assert seen["first_load"] <= PAGE_BUDGET, (name, seen["first_load"])
        assert len(seen["images"]) >= 3, name
        for image in seen["images"]:
            assert image["natural"] > 0, (name, image)  # it loaded
            assert image["srcset"] and image["sizes"] and image["width"] and image["height"], (name, image)
            # At 360 CSS px and DPR 2, a full-width card takes the medium size, the gallery's 80vw the thumbnail;
            # never the 1,600-px one.
            wanted = "-thumb.jpg" if name == "property page" else "-medium.jpg"
            assert image["src"].startswith(f"{base}/media/") and image["src"].endswith(wanted), (name, image)
        assert [image["loading"] for image in seen["images"]][:2] == ["auto", "lazy"], name
    photo = requests.get(seen["images"][0]["src"], timeout=10)
    assert photo.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert photo.headers["Content-Type"] == "image/jpeg" and photo.headers["X-Content-Type-Options"] == "nosniff"
