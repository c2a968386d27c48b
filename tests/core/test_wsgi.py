"""The served site's handler (core/wsgi.py): a page's request, and everything its page read, are freed by their
reference count when the response is closed, leaving nothing for the garbage collector."""

import gc
import io

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler as DjangoWSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory

from core.wsgi import WSGIHandler
from tests.helpers.stays import d

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def serve():
    """Serve a GET as gunicorn does (the handler called with a WSGI environ, the response read and closed), in the
    test's transaction: Django's test client also keeps the connection open around its requests. Answers the status
    and how many unreachable objects the collector found after the request (the collector paused meanwhile)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)

    def _serve(handler, path: str, *, cookies: dict | None = None, headers: dict | None = None) -> tuple[int, int]:
        environ = dict(RequestFactory().get(path, headers=headers or {}).environ, **{"wsgi.input": io.BytesIO(b"")})
        if cookies:
            environ["HTTP_COOKIE"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        statuses = []
        was_enabled = gc.isenabled()
        gc.collect()
        gc.disable()
        try:
            response = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
            b"".join(response)
            response.close()
            del response
            unreachable = gc.collect()
        finally:
            if was_enabled:
                gc.enable()
        return int(statuses[0].split()[0]), unreachable

    yield _serve
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _twice(serve, handler, path: str, **sent) -> tuple[int, int]:
    """The second of two requests: the first compiles the templates and fills what a worker keeps between requests."""
    serve(handler, path, **sent)
    return serve(handler, path, **sent)


def _signed_in(client, user) -> dict:
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


def test_the_public_pages_leave_nothing_for_the_collector(serve, listing):
    handler = WSGIHandler()
    dates = f"check_in={d(10).isoformat()}&check_out={d(13).isoformat()}&guests=2"
    for path in (
        "/",
        f"/listings/?where={listing.county}&{dates}",
        f"{listing.get_absolute_url()}?{dates}",
        f"{listing.get_absolute_url()}?{dates}&month={d(40).isoformat()[:7]}",
        "/listings/no-such-place/",
    ):
        status, unreachable = _twice(serve, handler, path)
        assert status in (200, 404) and unreachable == 0, (path, status, unreachable)


def test_djangos_own_handler_leaves_the_property_page_to_the_collector(serve, listing):
    """What the handler changes: Django's own leaves the request, its template context and the page's data in
    reference cycles (the check above would see them)."""
    status, unreachable = _twice(serve, DjangoWSGIHandler(), listing.get_absolute_url())
    assert status == 200 and unreachable > 20


def test_the_payment_poll_leaves_nothing_for_the_collector(serve, client, guest, pending_payment):
    payment = pending_payment()
    cookies = _signed_in(client, guest)
    status, unreachable = _twice(
        serve, WSGIHandler(), f"/trips/{payment.booking.ref}/payment-status/", cookies=cookies, headers=HX
    )
    assert status == 200 and unreachable == 0


def test_the_console_search_leaves_nothing_for_the_collector(serve, client, agent, pending_payment):
    payment = pending_payment()
    cookies = _signed_in(client, agent)
    for headers in (HX, {}):
        status, unreachable = _twice(
            serve, WSGIHandler(), f"/support/?q={payment.booking.ref}", cookies=cookies, headers=headers
        )
        assert status == 200 and unreachable == 0, (headers, unreachable)


def test_a_closed_request_keeps_nothing(rf):
    """The handler's request is emptied when Django closes it with its response, and closing it twice is harmless."""
    handler = WSGIHandler()
    request = handler.request_class(rf.get("/listings/?where=Kwale").environ)
    assert request.GET["where"] == "Kwale"
    request.close()
    assert vars(request) == {}
    request.close()
