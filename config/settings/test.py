"""The test suite: PostgreSQL when DATABASE_URL is set, else SQLite; e-mail in Django's test outbox."""

import os

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASES, env_str

DEBUG = False
SECRET_KEY = "test-only-key-with-enough-length-and-variety-0123456789-abcdefghijkl"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MPESA_ENV = env_str("MPESA_ENV", "emulator")
SMS_ENV = env_str("SMS_ENV", "emulator")
SMS_DELIVERY_TOKEN = "test-only-sms-delivery-token-0123456789"
# Nowhere (the discard port), so that an SMS sent by a test without the emulator fixture (tests.plugins.sms) reaches
# no server that happens to run on this machine.
AT_BASE_URL = "http://127.0.0.1:9/africastalking"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"] in ("django.db.backends.postgresql", "core.db.postgresql"):
    # The append-only tables refuse TRUNCATE unless the session allows it; Django empties the database between
    # transactional tests with TRUNCATE. Production and dev settings never set this.
    db_options = DATABASES["default"].setdefault("OPTIONS", {})
    db_options["options"] = f"{db_options.get('options', '')} -c nexus.allow_truncate=on".strip()
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: tests that start a second server process share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}
STATIC_ROOT = None  # nothing is collected in tests; static files come from the finders
WHITENOISE_USE_FINDERS = True
# The emulator's tests call back throwaway receivers and the vectors' example hosts.
MPESA_EMULATOR_CALLBACK_HOSTS = ["*"]
