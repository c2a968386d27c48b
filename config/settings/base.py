"""Settings shared by every environment. Everything secret or site-specific comes from the environment."""

import os
from email.utils import formataddr, parseaddr
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.storage import file_system_storage, public_origin, s3_storage

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    value = value.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off (got {value!r}).")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number (got {value!r}).") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
RENDER_EXTERNAL_HOSTNAME = env_str("RENDER_EXTERNAL_HOSTNAME")
if RENDER_EXTERNAL_HOSTNAME:
    ALLOWED_HOSTS.append(RENDER_EXTERNAL_HOSTNAME)
CSRF_TRUSTED_ORIGINS = [f"https://{host}" for host in ALLOWED_HOSTS if host and not host.startswith(".")]

# The site's name (e-mail sender and greetings, page titles) and absolute base URL (every absolute link, read
# through core.site.site_url()). On Render the URL defaults to the service's own; `make run` uses 127.0.0.1:8000.
SITE_NAME = env_str("SITE_NAME") or "Nexus"
SITE_URL = (env_str("SITE_URL") or env_str("RENDER_EXTERNAL_URL")).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks_db",
    "crispy_forms",
    "crispy_tailwind",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.headless",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "notifications",
    "listings",
    "reservations",
    "reviews",
    "mpesa",
    "daraja_emulator",
    "africastalking_emulator",
    "support",
    "api",
    "demo",
]

MIDDLEWARE = [
    # First, so that everything below it is compressed, static files WhiteNoise serves from the finders included
    # (collected ones come pre-compressed and pass through). Django's mitigation of BREACH comes with it.
    "core.middleware.GZipMiddleware",
    "core.middleware.HealthCheckMiddleware",
    # Outside everything that may answer with an HTML error page: under /api/ every error is problem+json.
    "api.middleware.ProblemJsonMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication and messages: the 400 and 404 pages it answers with show the signed-in menu.
    "core.middleware.UnstorableCharactersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.middleware.HtmxAuthRedirectMiddleware",
    "core.middleware.RateLimitedMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        # Django's, with a rendered page's context emptied (core/wsgi.py says why).
        "BACKEND": "core.template_backends.DjangoTemplates",
        "NAME": "django",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
                "support.context_processors.account_menu",
            ],
            "builtins": [
                "core.templatetags.money",
                "core.templatetags.phone",
                "core.templatetags.error_summary",
                "core.templatetags.jinja",
                "core.templatetags.extends",
            ],
        },
    },
    {
        # Hot partials only (core/jinja2.py says when one may be Jinja2); pages stay Django templates.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "core.jinja2.environment", "autoescape": True},
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=600,
        conn_health_checks=env_bool("DJANGO_CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The data is read from memory or SSD, where a random page costs about what a sequential one does; with
    # PostgreSQL's default (4, for spinning disks) the planner hashed the booked nights of a search's dates across
    # the whole catalogue instead of probing the county's listings: the search's id query went from 3.2 to 2.0 ms
    # in bench/search.py (Kwale, 3 nights; a search of the whole country still hashes, 6.6 ms).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c random_page_cost=1.1"
    # Connections persist between requests; the health check before each request's first query replaces one the
    # server closed meanwhile. Without it, web workers included, the next request on such a connection fails with a
    # 500 (tests/core/test_db_backend.py), and only then does Django close it. Here the check reads the socket
    # instead of sending `SELECT 1` (core/db/postgresql/base.py names the bench figure); DJANGO_CONN_CHECK_BY_QUERY=1
    # restores Django's own check, DJANGO_CONN_HEALTH_CHECKS=0 turns checks off (bench/poll.py compares the three).
    if not env_bool("DJANGO_CONN_CHECK_BY_QUERY", False):
        DATABASES["default"]["ENGINE"] = "core.db.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # BEGIN IMMEDIATE takes the write lock up front, so two writers queue instead of failing mid-transaction.
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # An index's extra columns (INCLUDE) let PostgreSQL answer from the index alone; SQLite builds it without them.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One cache for every worker process (allauth's sign-in limits, the Daraja token). Our own limits count in
# core.rate_limits.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "nexus_cache",
    },
    # Anonymous home and undated search pages for up to a minute (core/page_cache.py says why and which figure):
    # in each process's memory, so that a hit costs no query; at most 300 pages (~50 kB each) a process.
    "pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "nexus-pages",
        "OPTIONS": {"MAX_ENTRIES": 300},
    },
}

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    # ModelBackend with the permissions read in one query a request (core/permissions.py says why).
    "core.permissions.PermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# django-allauth: sign in by e-mail or by mobile number (allauth's own phone support, notifications.adapters), with a
# password or a code; enumeration protection and rate limits on. Sign-up takes a mobile number (verified by a code
# sent by SMS through the outbox) and, optionally, an e-mail address (verified by link: allauth refuses code
# verification of e-mail unless it is mandatory).
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email", "phone"}
ACCOUNT_SIGNUP_FIELDS = ["phone*", "email", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "core.forms.SignupDetailsForm"
ACCOUNT_FORMS = {
    "login": "core.login_forms.LoginForm",
    "request_login_code": "core.login_forms.RequestLoginCodeForm",
    "signup": "core.login_forms.SignupForm",
}
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_PHONE_VERIFICATION_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
ACCOUNT_LOGIN_BY_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "  # what core.site.email_subject puts first, read at send time
ACCOUNT_ADAPTER = "notifications.adapters.AccountAdapter"
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "change_phone": "1/m/user",
    "request_login_code": "20/m/ip,3/m/key",
    "verify_phone": "1/30s/key,3/m/ip",
}
# Codes sent by SMS (sign-up, sign-in, a changed number), counted through core.rate_limits per day (Nairobi's day
# runs 03:00 to 03:00): per number, per client address, and for the whole site. Past a limit nothing is sent, for a
# number with an account or without one alike (so the limit tells nobody which numbers have accounts).
PHONE_CODES_PER_NUMBER_PER_DAY = env_int("PHONE_CODES_PER_NUMBER_PER_DAY", 5)
PHONE_CODES_PER_ADDRESS_PER_DAY = env_int("PHONE_CODES_PER_ADDRESS_PER_DAY", 20)
PHONE_CODES_PER_DAY = env_int("PHONE_CODES_PER_DAY", 1000)
# Behind Render's proxy the client's address is the last hop that proxy appends to X-Forwarded-For.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("ALLAUTH_TRUSTED_PROXY_COUNT", 0)

# allauth's headless API at /_allauth/ for apps (X-Session-Token) and browsers (session cookie and CSRF); the HTML
# pages stay, and the e-mail verification link still opens them (an app posts the link's key instead).
HEADLESS_ONLY = False
HEADLESS_CLIENTS = ("app", "browser")

# The REST API at /api/v1/ (the api app): JSON only (the browsable renderer would need inline scripts), errors as
# application/problem+json, throttled per user or address through core.rate_limits.
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "allauth.headless.contrib.rest_framework.authentication.XSessionTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.CallerThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.problem_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Calls a minute per signed-in user, and per address for anonymous calls (the address as allauth finds it).
API_CALLS_PER_MINUTE_USER = env_int("API_CALLS_PER_MINUTE_USER", 240)
API_CALLS_PER_MINUTE_ANON = env_int("API_CALLS_PER_MINUTE_ANON", 120)
SPECTACULAR_SETTINGS = {
    "TITLE": "Nexus API",
    "DESCRIPTION": "Search, quote, book, pay for and host rental homes in Kenya. Money is whole Kenyan shillings.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page's scripts and styles come from our own static files: the CSP holds.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {"BookingStatusEnum": "reservations.models.Booking.Status"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "tailwind"
CRISPY_TEMPLATE_PACK = "tailwind"

LANGUAGE_CODE = "en"
TIME_ZONE = "Africa/Nairobi"
USE_I18N = True
# Our own wording of third-party text (sentence case on the account pages).
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
# Photos (config/storage.py): in a bucket when MEDIA_S3_BUCKET is set, else under MEDIA_ROOT. Served with DEBUG off
# from MEDIA_ROOT only on a declared persistent disk (one instance; e.g. Render's `disk:` mounted at MEDIA_ROOT).
MEDIA_S3_BUCKET = env_str("MEDIA_S3_BUCKET")
MEDIA_S3_ENDPOINT_URL = env_str("MEDIA_S3_ENDPOINT_URL")
MEDIA_S3_ACCESS_KEY_ID = env_str("MEDIA_S3_ACCESS_KEY_ID")
MEDIA_S3_SECRET_ACCESS_KEY = env_str("MEDIA_S3_SECRET_ACCESS_KEY")
MEDIA_S3_PUBLIC_URL = env_str("MEDIA_S3_PUBLIC_URL")
MEDIA_PERSISTENT_DISK = env_bool("MEDIA_PERSISTENT_DISK", False)
# File names are fresh for every upload and never reused: a photo is cacheable for a year.
MEDIA_CACHE_CONTROL = "public, max-age=31536000, immutable"
if MEDIA_S3_BUCKET:
    MEDIA_STORAGE = s3_storage(
        bucket=MEDIA_S3_BUCKET,
        endpoint_url=MEDIA_S3_ENDPOINT_URL,
        access_key_id=MEDIA_S3_ACCESS_KEY_ID,
        secret_access_key=MEDIA_S3_SECRET_ACCESS_KEY,
        public_url=MEDIA_S3_PUBLIC_URL,
        cache_control=MEDIA_CACHE_CONTROL,
    )
else:
    MEDIA_STORAGE = file_system_storage()
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# The sender's address; its name is always SITE_NAME.
DEFAULT_FROM_EMAIL = formataddr((SITE_NAME, parseaddr(env_str("DEFAULT_FROM_EMAIL") or "no-reply@nexus.test")[1]))
SERVER_EMAIL = DEFAULT_FROM_EMAIL
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
if MEDIA_S3_BUCKET:
    SECURE_CSP["img-src"].append(public_origin(MEDIA_S3_PUBLIC_URL))  # photos come from the bucket's origin
# Django's database sessions, their one read per request compiled once (core/sessions.py says why).
SESSION_ENGINE = "core.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CSRF_FAILURE_VIEW = "core.views.csrf_failure"

MESSAGE_TAGS = {}
# Django's cookie-then-session storage, made only when a message is there or added (core/message_storage.py).
MESSAGE_STORAGE = "core.message_storage.FallbackStorage"

# M-Pesa (Daraja). "emulator" serves our own Daraja at /daraja/; "sandbox" and "production" talk to Safaricom.
MPESA_ENV = env_str("MPESA_ENV")
MPESA_BASE_URL = env_str("MPESA_BASE_URL")
MPESA_CONSUMER_KEY = env_str("MPESA_CONSUMER_KEY")
MPESA_CONSUMER_SECRET = env_str("MPESA_CONSUMER_SECRET")
MPESA_SHORTCODE = env_str("MPESA_SHORTCODE")
MPESA_PASSKEY = env_str("MPESA_PASSKEY")
MPESA_TRANSACTION_TYPE = env_str("MPESA_TRANSACTION_TYPE", "CustomerPayBillOnline")
MPESA_TILL_NUMBER = env_str("MPESA_TILL_NUMBER")  # buy-goods: PartyB is the till, the shortcode is the store
MPESA_CALLBACK_BASE_URL = env_str("MPESA_CALLBACK_BASE_URL") or SITE_URL
MPESA_CALLBACK_ALLOWED_IPS = env_list("MPESA_CALLBACK_ALLOWED_IPS")
MPESA_TRUSTED_PROXIES = env_int("MPESA_TRUSTED_PROXIES", 0)
MPESA_INITIATOR_NAME = env_str("MPESA_INITIATOR_NAME")
MPESA_SECURITY_CREDENTIAL = env_str("MPESA_SECURITY_CREDENTIAL")
MPESA_QUERY_AFTER_SECONDS = env_int("MPESA_QUERY_AFTER_SECONDS", 15)
MPESA_QUERY_EVERY_SECONDS = env_int("MPESA_QUERY_EVERY_SECONDS", 10)
# After this long without a verdict a payment is "unknown" and support checks it.
MPESA_QUERY_WINDOW_SECONDS = env_int("MPESA_QUERY_WINDOW_SECONDS", 180)
# While a prompt is open the booking keeps its nights for the prompt plus a grace period.
MPESA_PROMPT_SECONDS = env_int("MPESA_PROMPT_SECONDS", 90)
MPESA_PAYMENT_GRACE_SECONDS = env_int("MPESA_PAYMENT_GRACE_SECONDS", 120)
# Pushes allowed per phone number and per user in MPESA_PUSH_LIMIT_WINDOW_SECONDS (a per-IP ceiling is generous:
# many Kenyans share one mobile-network address).
MPESA_PUSHES_PER_PHONE = env_int("MPESA_PUSHES_PER_PHONE", 3)
MPESA_PUSHES_PER_USER = env_int("MPESA_PUSHES_PER_USER", 5)
MPESA_PUSHES_PER_IP = env_int("MPESA_PUSHES_PER_IP", 60)
MPESA_PUSH_LIMIT_WINDOW_SECONDS = env_int("MPESA_PUSH_LIMIT_WINDOW_SECONDS", 600)
MPESA_UNMATCHED_CALLBACKS_PER_IP = env_int("MPESA_UNMATCHED_CALLBACKS_PER_IP", 30)

# The Daraja emulator (MPESA_ENV=emulator). Delays are in seconds; the tests scale them down.
# Where the emulator may call back, so a public demo posts nowhere else: "host" (the URL scheme's default port) or
# "host:port"; "*" is anywhere; empty is the authority (Host) the emulator itself was reached at.
MPESA_EMULATOR_CALLBACK_HOSTS = env_list("MPESA_EMULATOR_CALLBACK_HOSTS")
MPESA_EMULATOR_CALLBACK_DELAY_SECONDS = env_int("MPESA_EMULATOR_CALLBACK_DELAY_SECONDS", 2)
MPESA_EMULATOR_TIMEOUT_SECONDS = env_int("MPESA_EMULATOR_TIMEOUT_SECONDS", 30)
MPESA_EMULATOR_PROMPT_TIMEOUT_SECONDS = env_int("MPESA_EMULATOR_PROMPT_TIMEOUT_SECONDS", 90)
MPESA_EMULATOR_LATE_CALLBACK_SECONDS = env_int("MPESA_EMULATOR_LATE_CALLBACK_SECONDS", 180)
MPESA_EMULATOR_RESULT_DELAY_SECONDS = env_int("MPESA_EMULATOR_RESULT_DELAY_SECONDS", 2)
MPESA_EMULATOR_QUERY_NOT_FOUND_SECONDS = env_int("MPESA_EMULATOR_QUERY_NOT_FOUND_SECONDS", 1)
MPESA_EMULATOR_DELIVERY_TIMEOUT_SECONDS = env_int("MPESA_EMULATOR_DELIVERY_TIMEOUT_SECONDS", 10)
# The local address a spoofed delivery (test hook "spoofed_source") is sent from: any 127.0.0.0/8 address is this
# machine on Linux, so it reaches a loopback CallBackURL from somewhere that is not on MPESA_CALLBACK_ALLOWED_IPS.
MPESA_EMULATOR_SPOOFED_SOURCE_IP = env_str("MPESA_EMULATOR_SPOOFED_SOURCE_IP", "127.0.0.2")
MPESA_EMULATOR_STRICT = env_bool("MPESA_EMULATOR_STRICT", False)
MPESA_EMULATOR_SINGLE_TOKEN = env_bool("MPESA_EMULATOR_SINGLE_TOKEN", False)
MPESA_EMULATOR_TOKEN_ERROR_STATUS = env_int("MPESA_EMULATOR_TOKEN_ERROR_STATUS", 404)
MPESA_EMULATOR_OAUTH_ERROR_JSON = env_bool("MPESA_EMULATOR_OAUTH_ERROR_JSON", False)
MPESA_EMULATOR_LEGACY_PENDING = env_bool("MPESA_EMULATOR_LEGACY_PENDING", False)
MPESA_EMULATOR_AMOUNT_RULES = env_bool("MPESA_EMULATOR_AMOUNT_RULES", False)
MPESA_EMULATOR_RULE_LIMITED = env_bool("MPESA_EMULATOR_RULE_LIMITED", False)

# SMS (Africa's Talking). "emulator" serves our own at /africastalking/; "sandbox" and "production" talk to Africa's
# Talking. Delivery reports come to /notifications/sms/delivery/<SMS_DELIVERY_TOKEN>/.
SMS_ENV = env_str("SMS_ENV")
AT_BASE_URL = env_str("AT_BASE_URL")  # default: the sandbox's, production's, or {SITE_URL}/africastalking
AT_USERNAME = env_str("AT_USERNAME")  # default: "sandbox" in the sandbox and the emulator
AT_API_KEY = env_str("AT_API_KEY")
AT_SENDER_ID = env_str("AT_SENDER_ID")
SMS_DELIVERY_TOKEN = env_str("SMS_DELIVERY_TOKEN")
AT_TIMEOUT_SECONDS = env_int("AT_TIMEOUT_SECONDS", 15)
# The outbox (e-mail and SMS): attempts at a message that was refused before anything was sent, and the wait between
# them (where the task queue can wait). A message whose send may have gone out is never sent again.
NOTIFICATION_SEND_ATTEMPTS = env_int("NOTIFICATION_SEND_ATTEMPTS", 3)
NOTIFICATION_RETRY_SECONDS = env_int("NOTIFICATION_RETRY_SECONDS", 60)
# Daily caps (SMS cost money): per number, for the whole site, per e-mail address. Past a cap a message is not sent.
SMS_PER_NUMBER_PER_DAY = env_int("SMS_PER_NUMBER_PER_DAY", 10)
SMS_PER_DAY = env_int("SMS_PER_DAY", 2000)
EMAIL_PER_ADDRESS_PER_DAY = env_int("EMAIL_PER_ADDRESS_PER_DAY", 30)
# The Africa's Talking emulator (SMS_ENV=emulator). Delays are in seconds; the tests scale them down.
AT_EMULATOR_REPORT_DELAY_SECONDS = env_int("AT_EMULATOR_REPORT_DELAY_SECONDS", 2)
AT_EMULATOR_SLOW_ANSWER_SECONDS = env_int("AT_EMULATOR_SLOW_ANSWER_SECONDS", 30)
AT_EMULATOR_DELIVERY_TIMEOUT_SECONDS = env_int("AT_EMULATOR_DELIVERY_TIMEOUT_SECONDS", 10)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Tokens in M-Pesa's callback and result paths never reach the logs (core.redact).
    "formatters": {"masked": {"()": "core.redact.TokenMaskingFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "masked"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    # runserver's request lines (make run) go through the same masking handler.
    "loggers": {"django.server": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

# Support console: refunds above this need a second agent's approval; support accounts sign in with TOTP.
SUPPORT_REFUND_APPROVAL_KES = env_int("SUPPORT_REFUND_APPROVAL_KES", 20_000)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME

# Bookings: how long unpaid dates are held, and limits against squatting dates.
BOOKING_HOLD_MINUTES = env_int("BOOKING_HOLD_MINUTES", 15)
BOOKING_MAX_UNPAID_HOLDS = env_int("BOOKING_MAX_UNPAID_HOLDS", 2)
BOOKING_HOLDS_PER_HOUR = env_int("BOOKING_HOLDS_PER_HOUR", 10)
