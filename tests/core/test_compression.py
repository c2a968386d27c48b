"""Pages come gzipped at zlib's fastest level (core.middleware.GZipMiddleware), with Django's guarantees kept: a
file name of random length in each response's gzip header (BREACH), Vary on Accept-Encoding, weak ETags."""

import gzip
import io
import random

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory

from core.middleware import GZipMiddleware, _gzip_fastest

pytestmark = pytest.mark.django_db

ACCEPTS_GZIP = {"accept-encoding": "gzip, deflate, br"}


def gzip_file_name(body: bytes) -> bytes:
    """The FNAME field of a gzip member's header (RFC 1952), which follows the 10 fixed bytes when flag 8 is set."""
    assert body[:3] == b"\x1f\x8b\x08" and body[3] & gzip.FNAME
    return body[10 : body.index(b"\x00", 10)]


def test_a_page_comes_compressed_at_the_fastest_level_with_a_file_name_of_random_length(client, settings):
    settings.DEBUG = False
    bodies = [client.get("/listings/", headers=ACCEPTS_GZIP).content for _ in range(6)]
    assert all(b"Places to stay" in gzip.decompress(body) for body in bodies)
    assert {body[8] for body in bodies} == {4}  # XFL 4: compressed with the fastest algorithm
    assert len({len(gzip_file_name(body)) for body in bodies}) > 1


def test_vary_etag_and_content_length_are_those_of_what_is_sent():
    page = b"<p>" + b"Diani beach cottage, sleeps four. " * 40 + b"</p>"
    middleware = GZipMiddleware(lambda request: HttpResponse(page, headers={"ETag": '"v1"'}))

    plain = middleware(RequestFactory().get("/"))
    assert plain.content == page and plain["ETag"] == '"v1"' and "Content-Encoding" not in plain
    assert plain["Vary"] == "Accept-Encoding"  # a cache keeps both forms apart

    packed = middleware(RequestFactory().get("/", headers=ACCEPTS_GZIP))
    assert gzip.decompress(packed.content) == page
    assert packed["Content-Encoding"] == "gzip" and packed["Vary"] == "Accept-Encoding"
    assert packed["Content-Length"] == str(len(packed.content)) and len(packed.content) < len(page)
    assert packed["ETag"] == 'W/"v1"'


def test_what_gzip_cannot_shrink_is_sent_as_it_is():
    noise = random.Random(7).randbytes(4000)  # nothing for gzip to find, as in a JPEG
    middleware = GZipMiddleware(lambda request: HttpResponse(noise, content_type="image/jpeg"))
    response = middleware(RequestFactory().get("/", headers=ACCEPTS_GZIP))
    assert response.content == noise and "Content-Encoding" not in response


def gzip_file_member(page: bytes, name: str) -> bytes:
    """`page` as Python's gzip module writes it at level 1, with that file name and no time."""
    written = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", compresslevel=1, fileobj=written, mtime=0) as member:
        member.write(page)
    return written.getvalue()


POLLING_PANEL = (settings.BASE_DIR / "templates/jinja2/mpesa/_payment_polling.html").read_bytes()[:1_635]


LISTING_LINES = b"".join(
    b'<li class="card"><a href="/listings/nyali-apartment-%d/">Nyali apartment %d, sleeps %d</a> KES %d,500</li>\n'
    % (number, number, 2 + number % 5, 3 + number % 9)
    for number in range(2_000)
)


@pytest.mark.parametrize(
    "page",
    [
        POLLING_PANEL[:200],
        POLLING_PANEL,
        POLLING_PANEL * 3,
        random.Random(3).randbytes(900) + POLLING_PANEL,
        LISTING_LINES[:30_000],
        LISTING_LINES,
    ],
    ids=["200 bytes", "a 1.6 KB fragment", "4.9 KB", "with noise", "a 30 KB page", "a 160 KB page"],
)
def test_a_response_is_a_gzip_member_as_small_as_pythons_gzip_makes_it(page):
    """The member as Python's gzip module writes it at level 1 (the same header and trailer), its deflate stream
    made with a window that just holds the response and a smaller hash table: within 1% of the bytes."""
    body = _gzip_fastest(page)
    name = gzip_file_name(body).decode("ascii")
    reference = gzip_file_member(page, name)
    assert body[:10] == reference[:10]  # ID, deflate, FNAME, no time, XFL 4 (fastest), OS
    assert body[-8:] == reference[-8:]  # CRC-32 and size
    assert gzip.decompress(body) == page
    assert len(body) <= len(reference) * 1.01
