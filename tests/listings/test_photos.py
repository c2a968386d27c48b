import struct
import zlib
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from listings import photos
from listings.photos import PhotoError, photo_prepare


def image_bytes(fmt: str = "JPEG", size=(800, 600), mode="RGB", color=(200, 120, 40), **save_kwargs) -> bytes:
    buffer = BytesIO()
    Image.new(mode, size, color).save(buffer, format=fmt, **save_kwargs)
    return buffer.getvalue()


def upload(content: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def png_with_declared_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width × height: what a decompression bomb looks like before decoding."""
    raw = image_bytes("PNG", size=(16, 16), mode="L", color=0)
    ihdr_at = raw.index(b"IHDR")
    ihdr = bytearray(raw[ihdr_at : ihdr_at + 4 + 13])
    ihdr[4:12] = struct.pack(">II", width, height)
    crc = struct.pack(">I", zlib.crc32(bytes(ihdr)) & 0xFFFFFFFF)
    return raw[:ihdr_at] + bytes(ihdr) + crc + raw[ihdr_at + 4 + 13 + 4 :]


def opened(content) -> Image.Image:
    content.seek(0)
    image = Image.open(BytesIO(content.read()))
    image.load()
    return image


def test_text_file_named_jpg_is_refused():
    with pytest.raises(PhotoError, match="not a JPEG, PNG or WebP"):
        photo_prepare(upload=upload(b"just some notes about the flat\n" * 20, name="beach.jpg"))


def test_gif_named_jpg_is_refused():
    with pytest.raises(PhotoError, match="not a JPEG, PNG or WebP"):
        photo_prepare(upload=upload(image_bytes("GIF", mode="P", color=3), name="beach.jpg"))


def test_empty_file_is_refused():
    with pytest.raises(PhotoError, match="empty"):
        photo_prepare(upload=upload(b""))


def test_file_over_the_byte_limit_is_refused_before_decoding():
    content = image_bytes("JPEG") + b"\0" * photos.MAX_UPLOAD_BYTES
    with pytest.raises(PhotoError, match=r"the limit is 12\.0 MB"):
        photo_prepare(upload=upload(content))


def test_decompression_bomb_is_refused():
    bomb = png_with_declared_size(40_000, 40_000)
    assert len(bomb) < 200
    with pytest.raises(PhotoError, match="too many pixels"):
        photo_prepare(upload=upload(bomb, name="house.png", content_type="image/png"))


def test_image_over_our_pixel_limit_is_refused_with_its_size():
    big = png_with_declared_size(8_000, 6_000)
    with pytest.raises(PhotoError, match="8000 × 6000 pixels; the limit is 40 million"):
        photo_prepare(upload=upload(big, name="house.png", content_type="image/png"))


def test_tiny_image_is_refused():
    with pytest.raises(PhotoError, match="at least 200"):
        photo_prepare(upload=upload(image_bytes(size=(120, 90))))


def test_truncated_jpeg_is_refused():
    content = image_bytes(size=(900, 700))
    with pytest.raises(PhotoError, match="could not be read"):
        photo_prepare(upload=upload(content[: len(content) // 2]))


def test_gps_exif_is_removed():
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "S",
        ExifTags.GPS.GPSLatitude: (4.0, 17.0, 30.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (39.0, 35.0, 10.0),
    }
    original = image_bytes(size=(1200, 900), exif=exif.tobytes())
    assert Image.open(BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test photo carries GPS

    prepared = photo_prepare(upload=upload(original, name="IMG_2041.JPG"))

    for content in (prepared.display, prepared.thumb):
        content.seek(0)
        data = content.read()
        assert b"Exif" not in data
        assert b"PhoneMaker" not in data
        image = opened(content)
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info


def test_orientation_is_applied_before_exif_is_dropped():
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # the camera was turned: display rotated by 90°
    prepared = photo_prepare(upload=upload(image_bytes(size=(1200, 900), exif=exif.tobytes())))
    assert (prepared.width, prepared.height) == (900, 1200)
    assert opened(prepared.display).size == (900, 1200)


def test_large_photo_is_resized_to_display_sizes_under_fresh_names():
    prepared = photo_prepare(upload=upload(image_bytes(size=(4000, 3000)), name="my home 42 Ngong Rd.jpg"))
    assert (prepared.width, prepared.height) == (1600, 1200)
    assert opened(prepared.display).size == (1600, 1200)
    assert opened(prepared.thumb).size == (640, 480)
    assert prepared.display.name.endswith(".jpg") and "Ngong" not in prepared.display.name
    assert prepared.thumb.name != prepared.display.name


def test_small_photo_is_not_enlarged():
    prepared = photo_prepare(upload=upload(image_bytes(size=(500, 300))))
    assert opened(prepared.display).size == (500, 300)


@pytest.mark.parametrize(
    ("fmt", "mode", "color"),
    [("PNG", "RGBA", (10, 200, 10, 0)), ("WEBP", "RGB", (10, 20, 200)), ("PNG", "P", 7)],
)
def test_png_and_webp_become_rgb_jpeg(fmt, mode, color):
    prepared = photo_prepare(upload=upload(image_bytes(fmt, mode=mode, color=color), name="pool.jpg"))
    image = opened(prepared.display)
    assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (800, 600))
    if mode == "RGBA":  # fully transparent pixels land on white, not black
        assert image.getpixel((400, 300)) >= (250, 250, 250)
