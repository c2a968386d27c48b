"""/media/ with DEBUG off: served from a declared persistent disk only, JPEGs under MEDIA_ROOT only."""

import random

import pytest

# A JPEG's bytes look random to a compressor.
JPEG = b"\xff\xd8\xff\xe0" + random.Random(15).randbytes(4000) + b"\xff\xd9"

pytestmark = pytest.mark.django_db


@pytest.fixture
def disk(settings, tmp_path):
    """Photos on the file system under a fresh MEDIA_ROOT, DEBUG off, the disk declared."""
    root = tmp_path / "media"
    (root / "listings" / "2026" / "12").mkdir(parents=True)
    (root / "listings" / "2026" / "12" / "cover.jpg").write_bytes(JPEG)
    settings.DEBUG = False
    settings.MEDIA_ROOT = str(root)
    settings.MEDIA_PERSISTENT_DISK = True
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    return root


def test_a_photo_on_the_declared_disk_is_served_cacheable_for_a_year(client, disk):
    response = client.get("/media/listings/2026/12/cover.jpg", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.content == JPEG  # not gzipped: a JPEG gains nothing
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Content-Encoding" not in response
    assert client.head("/media/listings/2026/12/cover.jpg").status_code == 200
    assert client.post("/media/listings/2026/12/cover.jpg").status_code == 405


def test_without_a_declared_disk_nothing_is_served(client, disk, settings):
    settings.MEDIA_PERSISTENT_DISK = False
    assert client.get("/media/listings/2026/12/cover.jpg").status_code == 404
    settings.DEBUG = True  # make run serves them
    assert client.get("/media/listings/2026/12/cover.jpg").status_code == 200


def test_with_a_bucket_the_app_serves_nothing(client, disk, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    assert client.get("/media/listings/2026/12/cover.jpg").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/media/listings/2026/12/",  # no listing
        "/media/listings/",
        "/media/",
        "/media/listings/2026/12/missing.jpg",
        "/media/listings/2026/12/notes.txt",
        "/media/listings/2026/12/page.html",
        "/media/listings/2026/12/drawing.svg",
        "/media/listings/2026/12/.hidden.jpg",
        "/media/../outside.jpg",
        "/media/listings/../../outside.jpg",
        "/media/%2e%2e/outside.jpg",
        "/media/listings/%2e%2e/%2e%2e/outside.jpg",
        "/media//etc/passwd.jpg",
        "/media/listings/2026/12/escape.jpg",  # a link pointing outside MEDIA_ROOT
        "/media/listings/2026/12/cover.jpg%00.txt",
    ],
)
def test_only_jpegs_under_media_root_are_served(client, disk, path):
    (disk.parent / "outside.jpg").write_bytes(JPEG)
    (disk / "listings" / "2026" / "12" / "notes.txt").write_text("secret")
    (disk / "listings" / "2026" / "12" / "page.html").write_text("<script>alert(1)</script>")
    (disk / "listings" / "2026" / "12" / "drawing.svg").write_text("<svg></svg>")
    (disk / "listings" / "2026" / "12" / ".hidden.jpg").write_bytes(JPEG)
    (disk / "listings" / "2026" / "12" / "escape.jpg").symlink_to(disk.parent / "outside.jpg")
    response = client.get(path)
    assert response.status_code == 404, path
    assert JPEG not in response.content and b"secret" not in response.content
