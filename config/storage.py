"""Where uploaded photos live, from the environment: an S3-compatible bucket, or the file system (MEDIA_ROOT).

A bucket (Cloudflare R2, Backblaze B2, AWS S3) is reached through django-storages; its objects are public with stable
URLs under MEDIA_S3_PUBLIC_URL (no signed query strings, so pages and API answers stay cacheable), made public by
the bucket's own policy. File names are never reused, so every object is cacheable for a year.
"""

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured


def s3_storage(
    *, bucket: str, endpoint_url: str, access_key_id: str, secret_access_key: str, public_url: str, cache_control: str
) -> dict:
    """The STORAGES["default"] entry for a bucket whose objects are served from `public_url` (a custom domain or
    the bucket's public URL, with a path if the bucket sits under one)."""
    public = urlsplit(public_url.rstrip("/"))
    if public.scheme not in {"http", "https"} or not public.netloc:
        raise ImproperlyConfigured(
            "MEDIA_S3_PUBLIC_URL must be the absolute URL photos are served from, e.g. https://photos.example.com "
            f"(got {public_url!r})."
        )
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "access_key": access_key_id,
            "secret_key": secret_access_key,
            "custom_domain": public.netloc + public.path,
            "url_protocol": f"{public.scheme}:",
            "querystring_auth": False,
            "file_overwrite": False,
            "object_parameters": {"CacheControl": cache_control},
            "signature_version": "s3v4",
        },
    }


def public_origin(public_url: str) -> str:
    """The origin (scheme and host) of `public_url`, for the CSP's img-src."""
    parts = urlsplit(public_url)
    return f"{parts.scheme}://{parts.netloc}"


def file_system_storage() -> dict:
    return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
