"""Pages come gzipped at ISA-L's level 1, as small as zlib's fastest level makes them (core.middleware.GZipMiddleware),
with Django's guarantees kept: a file name of random length in each response's gzip header (BREACH), Vary on
Accept-Encoding, weak ETags."""

import gzip
import io
import random
import zlib

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from core.middleware import GZipMiddleware, _gzipped
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db

ACCEPTS_GZIP = {"accept-encoding": "gzip, deflate, br"}


def gzip_file_name(body: bytes) -> bytes:
    """The FNAME field of a gzip member's header (RFC 1952), which follows the 10 fixed bytes when flag 8 is set."""
    assert body[:3] == b"\x1f\x8b\x08" and body[3] & gzip.FNAME
    return body[10 : body.index(b"\x00", 10)]


def gzip_header_length(body: bytes) -> int:
    """The header's length: its 10 fixed bytes, the file name and the name's NUL."""
    return 10 + len(gzip_file_name(body)) + 1


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


@pytest.mark.parametrize("size", [200, 1_600, 48_000, 300_000])
def test_a_response_is_one_gzip_member_with_pythons_header_and_that_file_name(size):
    page = (b"<li>Nyali apartment, sleeps 4, KES 7,500 a night</li>" * (size // 50 + 1))[:size]
    body = _gzipped(page)
    written = io.BytesIO()
    name = gzip_file_name(body).decode("ascii")
    with gzip.GzipFile(filename=name, mode="wb", compresslevel=1, fileobj=written, mtime=0) as member:
        member.write(page)
    header = gzip_header_length(body)
    assert body[:header] == written.getvalue()[:header]
    assert gzip.decompress(body) == page  # the decompressor checks the trailer's CRC-32 and length too
    assert body[-8:] == written.getvalue()[-8:]


def test_a_page_of_listings_comes_as_small_as_zlibs_fastest_level_makes_it(client, make_user, settings):
    settings.DEBUG = False
    host = make_user("host@example.com")
    for number, town in enumerate(["Diani", "Nyali", "Watamu", "Kilifi", "Malindi", "Lamu", "Naivasha", "Nanyuki"]):
        make_listing(host, title=f"{town} house {number}", town=town, nightly_price_kes=4_000 + 750 * number)
    body = client.get("/listings/", headers=ACCEPTS_GZIP).content
    page = gzip.decompress(body)
    assert page.count(b" house ") >= 8
    zlib_level_1 = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
    zlib_size = len(zlib_level_1.compress(page) + zlib_level_1.flush())
    deflate_size = len(body) - gzip_header_length(body) - 8  # less the header and the 8 bytes of trailer
    assert deflate_size <= zlib_size * 1.02
