from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.core.files.storage import FileSystemStorage, storages


@register(Tags.files, deploy=True)
def check_photos_survive_deployment(app_configs, **kwargs):
    """Photos on the web service's own disk are lost on every deploy and not shared between instances."""
    if settings.DEBUG or not isinstance(storages["default"], FileSystemStorage) or settings.MEDIA_PERSISTENT_DISK:
        return []
    return [
        Warning(
            "Uploaded photos are stored on this machine's own disk under MEDIA_ROOT and nobody serves them: they are "
            "lost on every deploy and every photo is a 404.",
            hint="Set MEDIA_S3_BUCKET (with MEDIA_S3_ENDPOINT_URL, MEDIA_S3_ACCESS_KEY_ID, MEDIA_S3_SECRET_ACCESS_KEY "
            "and MEDIA_S3_PUBLIC_URL) to keep them in a bucket, or mount a persistent disk at MEDIA_ROOT and set "
            "MEDIA_PERSISTENT_DISK=1 (one instance only).",
            id="core.W001",
        )
    ]
