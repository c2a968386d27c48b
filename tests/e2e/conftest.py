import os

import pytest

from tests.helpers.browser import DESKTOP, PHONE

# Playwright's sync API runs an event loop in the test thread; the ORM would otherwise refuse to run there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _quick_failures(request):
    if "page" in request.fixturenames:
        request.getfixturevalue("page").set_default_timeout(10_000)


@pytest.fixture(params=[PHONE, DESKTOP], ids=["phone", "desktop"])
def viewport(request):
    return request.param


@pytest.fixture
def sized_page(page, viewport):
    """A page at 360 px and at desktop width (tests using it run twice)."""
    page.set_viewport_size(viewport)
    return page
