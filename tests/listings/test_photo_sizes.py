"""Small images for phones: three stored sizes, srcset and sizes on cards and the gallery, a command that fills the
medium size for photos stored before it existed."""

import re
from io import BytesIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from listings.models import ListingPhoto
from listings.photos import image_set, photo_prepare
from listings.services import listing_photo_add, listing_photo_delete, listing_publish
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db


def jpeg(size=(4000, 3000), color=(30, 140, 90)) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG")
    return buffer.getvalue()


def stored_size(name: str) -> tuple[int, int]:
    with default_storage.open(name) as file, Image.open(file) as image:
        return image.size


def add_photo(listing, size=(4000, 3000)) -> ListingPhoto:
    return listing_photo_add(listing=listing, upload=SimpleUploadedFile("p.jpg", jpeg(size), "image/jpeg"))


def test_an_upload_is_stored_at_three_sizes_with_its_dimensions(host):
    photo = add_photo(make_listing(host))
    assert (photo.width, photo.height) == (1600, 1200)
    assert stored_size(photo.image.name) == (1600, 1200)
    assert stored_size(photo.medium.name) == (720, 540)
    assert stored_size(photo.thumbnail.name) == (640, 480)
    assert len(set(photo.files)) == 3


def test_deleting_a_photo_removes_every_size(host, django_capture_on_commit_callbacks):
    listing = make_listing(host, is_published=False)
    photo = add_photo(listing)
    names = photo.files
    with django_capture_on_commit_callbacks(execute=True):
        listing_photo_delete(photo=photo)
    assert names and not any(default_storage.exists(name) for name in names)


def test_a_portrait_photo_offers_each_size_at_its_real_width(host):
    photo = add_photo(make_listing(host), size=(3000, 4000))
    sizes = photo.image_set
    widths = [int(w) for w in re.findall(r" (\d+)w", sizes.srcset)]
    assert widths == [480, 540, 1200]
    assert (sizes.width, sizes.height) == (540, 720)
    assert sizes.src == default_storage.url(photo.medium.name)


def test_a_small_photo_offers_one_candidate_per_real_width():
    sizes = image_set(
        url=lambda n: f"/m/{n}", image="a.jpg", medium="a-m.jpg", thumbnail="a-t.jpg", width=600, height=400
    )
    assert sizes.srcset == "/m/a-t.jpg 600w"  # all three are the same 600 px picture: one candidate
    assert (sizes.src, sizes.width, sizes.height) == ("/m/a-m.jpg", 600, 400)


def test_a_photo_without_a_medium_size_or_dimensions_still_has_a_srcset():
    sizes = image_set(url=lambda n: f"/m/{n}", image="a.jpg", medium="", thumbnail="a-t.jpg", width=None, height=None)
    assert sizes.srcset == "/m/a-t.jpg 640w, /m/a.jpg 1600w"
    assert (sizes.src, sizes.width, sizes.height) == ("/m/a-t.jpg", 0, 0)


def _published(host, title: str, photos: int = 1):
    listing = make_listing(host, title=title, is_published=False)
    for _ in range(photos):
        add_photo(listing)
    listing_publish(listing=listing)
    return listing


def _images(html: str) -> list[str]:
    """The page's photos (the photo viewer's own image stays empty until a photo is opened)."""
    return [tag for tag in re.findall(r"<img\b[^>]*>", html) if "data-viewer-image" not in tag]


@pytest.mark.parametrize("path", ["/", "/listings/"])
def test_cards_offer_every_size_the_first_at_once_the_rest_lazily(client, host, path):
    for number in range(3):
        _published(host, f"Cottage {number}")
    images = _images(client.get(path).content.decode())
    assert len(images) == 3
    for position, tag in enumerate(images):
        assert re.search(r'srcset="[^"]+-thumb\.jpg 640w, [^"]+-medium\.jpg 720w, [^"]+ 1600w"', tag), tag
        assert 'sizes="(min-width: 1024px) 360px, (min-width: 640px) 50vw, 100vw"' in tag
        assert 'width="720" height="540"' in tag and re.search(r'src="[^"]+-medium\.jpg"', tag)
        assert ('loading="lazy"' in tag) == (position > 0), tag


def test_the_gallery_offers_every_size_with_dimensions(client, host):
    listing = _published(host, "Beach house", photos=3)
    images = _images(client.get(listing.get_absolute_url()).content.decode())
    assert len(images) == 3
    for position, tag in enumerate(images):
        assert re.search(r'srcset="[^"]+ 640w, [^"]+ 720w, [^"]+ 1600w"', tag), tag
        assert 'width="720" height="540"' in tag
        assert re.search(r'sizes="[^"]*, 80vw"', tag)
        assert ('loading="lazy"' in tag) == (position > 0), tag


def test_photo_urls_follow_where_photos_are_served(client, host, settings):
    """Photo URLs are worked out once per file name; moving the photos elsewhere gives pages the new URLs."""
    listing = _published(host, "Beach house")
    photo = listing.photos.get()
    for path in ("/listings/", listing.get_absolute_url()):
        assert f'src="/media/{photo.medium.name}"' in client.get(path).content.decode()
    settings.MEDIA_URL = "https://photos.example.com/m/"
    for path in ("/listings/", listing.get_absolute_url()):
        html = client.get(path).content.decode()
        assert f'src="https://photos.example.com/m/{photo.medium.name}"' in html
        assert "/media/" not in html


def test_fill_photo_sizes_makes_the_medium_size_of_older_photos(host, capsys):
    listing = make_listing(host)
    photo = add_photo(listing)
    newer = add_photo(listing)
    # As stored before the medium size existed: two files and no dimensions.
    default_storage.delete(photo.medium.name)
    ListingPhoto.objects.filter(pk=photo.pk).update(medium="", width=None, height=None)
    call_command("fill_photo_sizes")
    assert "Filled 1 photo(s)" in capsys.readouterr().out
    photo.refresh_from_db()
    assert photo.medium.name and (photo.width, photo.height) == (1600, 1200)
    assert stored_size(photo.medium.name) == (720, 540)
    assert 'width="720"' in f'width="{photo.image_set.width}"'
    before = newer.medium.name
    call_command("fill_photo_sizes")
    assert "Filled 0 photo(s)" in capsys.readouterr().out
    newer.refresh_from_db()
    assert newer.medium.name == before


def test_fill_photo_sizes_reports_a_photo_whose_file_is_gone(host, capsys):
    photo = add_photo(make_listing(host))
    ListingPhoto.objects.filter(pk=photo.pk).update(medium="", width=None)
    default_storage.delete(photo.image.name)
    call_command("fill_photo_sizes")
    captured = capsys.readouterr()
    assert "Filled 0 photo(s); 1 could not be read." in captured.out
    assert f"Photo {photo.pk}" in captured.err


def test_prepare_makes_the_medium_size():
    prepared = photo_prepare(upload=ContentFile(jpeg((1200, 1600)), name="x.jpg"))
    with Image.open(prepared.medium) as medium:
        assert medium.size == (540, 720)
