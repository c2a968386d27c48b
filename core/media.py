"""Uploaded photos served by the app itself from MEDIA_ROOT: with `make run` (DEBUG on), and in production on a
declared persistent disk (MEDIA_PERSISTENT_DISK, one instance with the disk mounted at MEDIA_ROOT). With a bucket
the photos' URLs point at the bucket and this serves nothing.

Only JPEG files under MEDIA_ROOT (the only type listing photos are stored as), no directory listing, no way out of
MEDIA_ROOT. File names are never reused, so a photo is cacheable for a year.
"""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage, storages
from django.http import Http404, HttpRequest, HttpResponse
from django.utils._os import safe_join
from django.utils.http import http_date
from django.views.decorators.http import require_safe

SERVED_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def media_served_by_app() -> bool:
    """Whether /media/ answers: photos are on this machine's file system and either DEBUG is on or MEDIA_ROOT is a
    declared persistent disk."""
    on_file_system = isinstance(storages["default"], FileSystemStorage)
    return on_file_system and (settings.DEBUG or settings.MEDIA_PERSISTENT_DISK)


def _file(path: str) -> Path:
    """The regular file `path` names under MEDIA_ROOT, of a type we serve; Http404 for anything else."""
    content_type = SERVED_TYPES.get(Path(path).suffix.lower())
    if content_type is None or any(part.startswith(".") for part in path.split("/")):
        raise Http404
    root = Path(settings.MEDIA_ROOT).resolve()
    try:
        candidate = Path(safe_join(root, path)).resolve()
    except (SuspiciousFileOperation, ValueError, OSError):
        raise Http404
    if not candidate.is_relative_to(root) or not candidate.is_file():
        raise Http404
    return candidate


@require_safe
def media_file(request: HttpRequest, path: str) -> HttpResponse:
    if not media_served_by_app():
        raise Http404
    file = _file(path)
    try:
        data = file.read_bytes()
        modified = file.stat().st_mtime
    except OSError:
        raise Http404
    # A whole response, not a stream: GZipMiddleware then keeps a JPEG as it is, since compressing it gains nothing.
    response = HttpResponse(data, content_type=SERVED_TYPES[file.suffix.lower()])
    response["Cache-Control"] = settings.MEDIA_CACHE_CONTROL
    response["X-Content-Type-Options"] = "nosniff"
    response["Last-Modified"] = http_date(modified)
    return response
