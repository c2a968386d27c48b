"""Listing photo uploads: check that a file is a real photo, then re-encode it at display sizes without metadata.

Nothing uploaded is ever stored as sent. Phone photos carry EXIF (the GPS position of the host's home among it),
and a file's name and declared type say nothing about what it holds, so every upload is decoded by Pillow,
checked against byte and pixel limits before any pixel is decoded, and written anew as a plain JPEG.
"""

import functools
import uuid
import warnings
from dataclasses import dataclass
from io import BytesIO

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

# What a host may send.
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
MAX_UPLOAD_BYTES = 12 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 48 MP phone shoots 8000 × 6000 only in its "high resolution" mode
MIN_EDGE_PX = 200

# What is stored: the longest edge of each display size, in pixels. Pages offer all three in `srcset` and the
# browser picks: a phone 360 CSS px wide at device pixel ratio 2 takes the medium one.
DISPLAY_EDGE_PX = 1600
MEDIUM_EDGE_PX = 720
THUMB_EDGE_PX = 640
JPEG_QUALITY = 82


class PhotoError(ValueError):
    """An upload that cannot become a listing photo; the message is safe to show to the host."""


@dataclass(frozen=True)
class PreparedPhoto:
    """A checked upload, re-encoded: a large display image, a medium one for phones and a thumbnail for cards, all
    JPEG without metadata.

    width and height are the display image's."""

    display: ContentFile
    medium: ContentFile
    thumb: ContentFile
    width: int
    height: int


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _open_checked(upload) -> Image.Image:
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    if size > MAX_UPLOAD_BYTES:
        raise PhotoError(
            _("This photo is {size}; the limit is {limit}.").format(
                size=_megabytes(size), limit=_megabytes(MAX_UPLOAD_BYTES)
            )
        )
    if size == 0:
        raise PhotoError(_("This file is empty."))
    upload.seek(0)
    # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that; our own, lower limit is checked first,
    # from the header alone, and the warning is made an error so that no bomb is ever decoded.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(upload, formats=ALLOWED_FORMATS)
        except UnidentifiedImageError:
            raise PhotoError(_("This file is not a JPEG, PNG or WebP photo."))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoError(_("This image has too many pixels to be a photo."))
        except (OSError, SyntaxError, ValueError):
            raise PhotoError(_("This photo could not be read; it may be damaged."))
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise PhotoError(
                _("This photo is {width} × {height} pixels; the limit is {limit} million pixels.").format(
                    width=width, height=height, limit=MAX_PIXELS // 1_000_000
                )
            )
        if min(width, height) < MIN_EDGE_PX:
            raise PhotoError(
                _("This photo is {width} × {height} pixels; each side needs at least {minimum}.").format(
                    width=width, height=height, minimum=MIN_EDGE_PX
                )
            )
        try:
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoError(_("This image has too many pixels to be a photo."))
        except (OSError, SyntaxError, ValueError, EOFError):
            raise PhotoError(_("This photo could not be read; it may be damaged or cut short."))
    return image


def _plain_rgb(image: Image.Image) -> Image.Image:
    """The pixels alone: turned upright as the camera meant, flattened onto white, with no metadata attached."""
    upright = ImageOps.exif_transpose(image)
    if upright.mode in ("RGBA", "LA") or (upright.mode == "P" and "transparency" in upright.info):
        rgba = upright.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
    else:
        flat = upright.convert("RGB")
    # A new image carries no info dict: no EXIF, XMP, comment or ICC profile can ride along into the output.
    clean = Image.new("RGB", flat.size)
    clean.paste(flat)
    return clean


def _encode(image: Image.Image, longest_edge: int) -> tuple[bytes, tuple[int, int]]:
    copy = image.copy()
    copy.thumbnail((longest_edge, longest_edge), Image.Resampling.LANCZOS)
    buffer = BytesIO()
    copy.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return buffer.getvalue(), copy.size


def photo_prepare(*, upload: UploadedFile | ContentFile) -> PreparedPhoto:
    """Check an upload and re-encode it at display sizes without EXIF. Raises PhotoError with a sentence to show."""
    image = _open_checked(upload)
    try:
        clean = _plain_rgb(image)
    finally:
        image.close()
    # A fresh name: the uploaded one says nothing the guest needs and may say things the host would not.
    stem = uuid.uuid4().hex
    display_bytes, (width, height) = _encode(clean, DISPLAY_EDGE_PX)
    medium_bytes, _size = _encode(clean, MEDIUM_EDGE_PX)
    thumb_bytes, _size = _encode(clean, THUMB_EDGE_PX)
    return PreparedPhoto(
        display=ContentFile(display_bytes, name=f"{stem}.jpg"),
        medium=ContentFile(medium_bytes, name=f"{stem}-medium.jpg"),
        thumb=ContentFile(thumb_bytes, name=f"{stem}-thumb.jpg"),
        width=width,
        height=height,
    )


def photo_medium_from_display(*, display) -> tuple[ContentFile, int, int]:
    """The medium size made from a stored display image (for photos stored before that size existed), with the
    display image's width and height."""
    display.seek(0)
    with Image.open(display, formats=("JPEG",)) as image:
        image.load()
        width, height = image.size
        medium_bytes, _size = _encode(image.convert("RGB"), MEDIUM_EDGE_PX)
    return ContentFile(medium_bytes), width, height


# ---------------------------------------------------------------------------------------------------------------
# What pages show: each stored size with its width, for <img srcset>.


@functools.lru_cache(maxsize=16_384)
def photo_url(name: str) -> str:
    """The URL of a stored photo file, worked out once per name and process.

    Both storages a photo can live in give a name the same URL every time (the app's file system, and a bucket with
    a public URL and no signed query strings: config/storage.py), and file names are never reused. Asked anew, the
    storage took 8 us a URL, and a search page shows 60 of them (12 cards, each with its srcset): half a
    millisecond of a dated search's 7 in one process (bench/demo_pages.py, "search, dated")."""
    return default_storage.url(name)


@receiver(setting_changed)
def _forget_photo_urls(*, setting: str, **kwargs) -> None:
    """Tests that move the photos elsewhere get their new URLs."""
    if setting in {"STORAGES", "MEDIA_URL", "MEDIA_ROOT"}:
        photo_url.cache_clear()
        image_set.cache_clear()


@dataclass(frozen=True)
class ImageSet:
    """One photo for an <img>: `src` (the medium size, else what there is), `srcset` ("url 480w, ..."), and the
    intrinsic `width` and `height` of `src` (0 when unknown)."""

    src: str
    srcset: str
    width: int
    height: int


def _scaled(width: int, height: int, edge: int) -> tuple[int, int]:
    """The size Pillow's thumbnail() gives a width x height picture fitted into edge x edge (never enlarged)."""
    longest = max(width, height)
    if longest <= edge:
        return width, height
    return max(1, round(width * edge / longest)), max(1, round(height * edge / longest))


@functools.lru_cache(maxsize=16_384)
def image_set(*, url, image: str, medium: str, thumbnail: str, width: int | None, height: int | None) -> ImageSet:
    """The stored sizes of one photo (file names, "" when a size is missing; `width` and `height` those of the
    display image, None when unknown) as an ImageSet; `url` turns a file name into its URL.

    Worked out once per photo and process, as photo_url is (an ImageSet cannot change, and neither can what its
    file names and `url` make of it): 6 us each time against 0.45 us remembered, twelve times a search page (its
    covers) and once a photo on the property page (bench/instructions.py counts both pages)."""
    sizes = [(thumbnail, THUMB_EDGE_PX), (medium, MEDIUM_EDGE_PX), (image, DISPLAY_EDGE_PX)]
    candidates: dict[int, str] = {}
    for name, edge in sizes:
        if not name:
            continue
        if width and height:
            shown_width = _scaled(width, height, edge)[0]
        else:
            shown_width = edge  # the longest edge: right for landscape photos, which most are
        candidates.setdefault(shown_width, url(name))
    src_name = medium or thumbnail or image
    src_edge = MEDIUM_EDGE_PX if medium else THUMB_EDGE_PX if thumbnail else DISPLAY_EDGE_PX
    src_width, src_height = _scaled(width, height, src_edge) if width and height else (0, 0)
    return ImageSet(
        src=url(src_name),
        srcset=", ".join(f"{address} {w}w" for w, address in sorted(candidates.items())),
        width=src_width,
        height=src_height,
    )
