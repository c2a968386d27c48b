import os
import shutil

import pytest
from django.core.cache import cache
from django.db import connection

from tests.helpers.accounts import DEMO_PASSWORD
from tests.offset_clock import CLOCK_OFFSET_DAYS, travel_by_offset

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# CI sets this: a skipped test there means something that must be checked was not.
NO_SKIPS = os.environ.get("NEXUS_NO_SKIPS") == "1"


# CI runs the suite a second time a year ahead: nothing may depend on the date it runs on. The offset starts here,
# when this first conftest is imported, so that every module below (and the dates their fixtures build at import)
# already sees it. Threads of this process (the live server, the emulator's sender) share the travelled clock.
travel_by_offset()

# Fixtures shared across folders: a test asks for them by name (pytest reads pytest_plugins only here, at the root).
pytest_plugins = [
    "tests.plugins.bookings",
    "tests.plugins.payments",
    "tests.plugins.daraja",
    "tests.plugins.support",
    "tests.plugins.sms",
    "tests.plugins.storage",
    "tests.plugins.reviews",
]


def pytest_report_header(config):
    if CLOCK_OFFSET_DAYS:
        return f"clock: {CLOCK_OFFSET_DAYS} days ahead (NEXUS_CLOCK_OFFSET_DAYS)"
    return None


def chromium_available() -> bool:
    return os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


def pytest_collection_modifyitems(config, items):
    on_postgres = connection.vendor == "postgresql"
    has_chromium = chromium_available()
    for item in items:
        if "tests/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
        if item.get_closest_marker("postgres") and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://..."))
        if item.get_closest_marker("browser") and not has_chromium:
            item.add_marker(
                pytest.mark.skip(reason=f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")
            )


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences") or any(marker.args[:1])):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_transactional_last(items):
    """Transactional tests (the browser journeys) run after every other database test.

    pytest-django orders them so, but pytest then regroups tests by parametrized session fixtures (Playwright's
    browser name), which can pull a browser journey ahead of ordinary tests. A transactional test ends by
    flushing the database, rows made by data migrations (the amenity catalogue) included.
    """
    items.sort(key=_is_transactional)


def pytest_sessionfinish(session, exitstatus):
    """With NEXUS_NO_SKIPS=1 a skipped test fails the run; on SQLite, tests that need PostgreSQL may skip."""
    if not NO_SKIPS:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if connection.vendor != "postgresql":
        skipped = [report for report in skipped if "postgres" not in report.keywords]
    if skipped:
        reporter.write_line(f"NEXUS_NO_SKIPS=1 and {len(skipped)} test(s) were skipped: failing the run.", red=True)
        session.exitstatus = 1


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # Tests run with DEBUG off; the manifest storage would want collectstatic first.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _empty_cache(request):
    """allauth's sign-in limits and the Daraja token live in the database cache; test transactions keep it."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db", "live_server"} & set(request.fixturenames):
        return
    transactional = "transactional_db" in request.fixturenames or "live_server" in request.fixturenames
    transactional = transactional or bool(marker and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    cache.clear()
    _restore_amenity_catalogue()


def _restore_amenity_catalogue() -> None:
    """A transactional test ends by emptying every table, so the catalogue rows its data migration made go too."""
    from listings.models import Amenity

    if Amenity.objects.count() != len(Amenity.Code):
        for position, code in enumerate(Amenity.Code.values):
            Amenity.objects.update_or_create(code=code, defaults={"position": position})


@pytest.fixture
def make_user(db):
    """A user with a verified e-mail address, as after sign-up and verification."""
    from allauth.account.models import EmailAddress

    from core.models import User

    def _make_user(email: str = "amina@example.com", password: str = DEMO_PASSWORD, **fields) -> User:
        fields.setdefault("full_name", "Amina Njeri")
        user = User.objects.create_user(email=email, password=password, **fields)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user

    return _make_user


@pytest.fixture
def make_phone_user(db):
    """A user who signed up with a mobile number (and no e-mail address) and, unless verified=False, entered the
    code sent to it."""
    from core.models import User
    from core.services import user_phone_set, user_phone_verify

    def _make_phone_user(phone: str = "+254712345678", password: str = DEMO_PASSWORD, verified: bool = True, **fields):
        fields.setdefault("full_name", "Baraka Ochieng")
        user = User(**fields)
        user.set_password(password)
        user.save()
        if verified:
            return user_phone_verify(user=user, phone=phone)
        return user_phone_set(user=user, phone=phone)

    return _make_phone_user


@pytest.fixture
def user(make_user):
    return make_user()
