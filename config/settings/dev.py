"""Local runs (`make run`): SQLite unless DATABASE_URL is set, e-mails on the console, the M-Pesa emulator."""

from .base import *  # noqa: F403
from .base import MEDIA_STORAGE, env_bool, env_list, env_str

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env_str("DJANGO_SECRET_KEY") or "dev-only-insecure-key-not-for-production-use"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
SITE_URL = (env_str("SITE_URL") or "http://127.0.0.1:8000").rstrip("/")
MPESA_ENV = env_str("MPESA_ENV", "emulator")
MPESA_BASE_URL = env_str("MPESA_BASE_URL", "http://127.0.0.1:8000/daraja")
MPESA_CALLBACK_BASE_URL = env_str("MPESA_CALLBACK_BASE_URL", "http://127.0.0.1:8000")
SMS_ENV = env_str("SMS_ENV", "emulator")
SMS_DELIVERY_TOKEN = env_str("SMS_DELIVERY_TOKEN", "dev-only-sms-delivery-token")
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT = None  # runserver serves static files from the finders
WHITENOISE_USE_FINDERS = True
