"""Photos in an S3-compatible bucket (moto's S3 over HTTP): uploads, every stored size, the pages' image URLs and
deletion go through the bucket; seed_demo writes through it too."""

import re
from io import BytesIO, StringIO

import pytest
import requests
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from listings.models import ListingPhoto
from listings.services import listing_photo_add, listing_photo_delete, listing_publish
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db


def jpeg(size=(2400, 1800)) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, (180, 90, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _add(listing) -> ListingPhoto:
    return listing_photo_add(listing=listing, upload=SimpleUploadedFile("p.jpg", jpeg(), "image/jpeg"))


def _image_urls(html: str) -> set[str]:
    urls = set(re.findall(r'<img\b[^>]*\bsrc="([^"]+)"', html))
    for srcset in re.findall(r'\bsrcset="([^"]+)"', html):
        urls |= {candidate.split()[0] for candidate in srcset.split(",")}
    return urls


def test_an_upload_stores_every_size_in_the_bucket_at_stable_public_urls(s3_bucket, host):
    photo = _add(make_listing(host, is_published=False))
    assert s3_bucket.keys() == set(photo.files) and len(photo.files) == 3
    for name, width in zip(photo.files, (1600, 720, 640), strict=True):
        url = default_storage.url(name)
        assert url == f"{s3_bucket.public_url}/{name}"  # no signature, no query string: cacheable
        answer = requests.get(url, timeout=10)  # anonymous, as a browser fetches it
        assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/jpeg"
        assert Image.open(BytesIO(answer.content)).size[0] == width
        assert s3_bucket.head(name)["CacheControl"] == "public, max-age=31536000, immutable"


def test_every_image_url_on_home_search_and_the_property_page_answers_with_the_photo(s3_bucket, host, client):
    listing = make_listing(host, is_published=False)
    photos = [_add(listing), _add(listing)]
    listing_publish(listing=listing)
    stored = {default_storage.url(name): name for photo in photos for name in photo.files}
    for path in ("/", "/listings/", listing.get_absolute_url()):
        urls = _image_urls(client.get(path).content.decode())
        assert urls and urls <= set(stored), (path, urls)
        for url in urls:
            answer = requests.get(url, timeout=10)
            assert answer.status_code == 200, url
            assert answer.content == default_storage.open(stored[url]).read()


def test_deleting_a_photo_removes_its_objects(s3_bucket, host, django_capture_on_commit_callbacks):
    listing = make_listing(host, is_published=False)
    kept, deleted = _add(listing), _add(listing)
    with django_capture_on_commit_callbacks(execute=True):
        listing_photo_delete(photo=deleted)
    assert s3_bucket.keys() == set(kept.files)
    assert requests.get(default_storage.url(deleted.image.name), timeout=10).status_code in (403, 404)


def test_fill_photo_sizes_reads_and_writes_the_bucket(s3_bucket, host):
    photo = _add(make_listing(host, is_published=False))
    default_storage.delete(photo.medium.name)
    ListingPhoto.objects.filter(pk=photo.pk).update(medium="", width=None, height=None)
    call_command("fill_photo_sizes", stdout=StringIO())
    photo.refresh_from_db()
    assert photo.medium.name in s3_bucket.keys() and (photo.width, photo.height) == (1600, 1200)


def test_seed_demo_writes_its_photos_to_the_bucket(s3_bucket, settings):
    call_command("seed_demo", force=True, stdout=StringIO())
    names = {name for photo in ListingPhoto.objects.all() for name in photo.files}
    assert names and names == s3_bucket.keys()
    assert all(photo.medium.name for photo in ListingPhoto.objects.all())
