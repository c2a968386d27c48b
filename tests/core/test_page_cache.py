"""The minute's cache of anonymous home and undated search pages (core/page_cache.py)."""

import datetime
import re

import pytest
import time_machine
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.http import HttpResponse
from django.template import engines
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone

from core.page_cache import cache_anonymous_page
from listings.models import ListingPhoto
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db

SEARCH = reverse("listings:search")
UNDATED = f"{SEARCH}?where=Diani"


@pytest.fixture(autouse=True)
def page_cache_on(settings):
    """The deployed page cache (the test settings turn it off for every other test)."""
    settings.CACHES = {
        **settings.CACHES,
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "test-pages"},
    }
    caches["pages"].clear()
    yield
    caches["pages"].clear()


@pytest.fixture
def host(make_user):
    return make_user(email="wanjiru@example.com", full_name="Wanjiru Kamau")


def with_photo(listing):
    photo = ListingPhoto(listing=listing, caption="Outside", order=0)
    photo.image.save(f"p{listing.pk}.jpg", ContentFile(b"jpeg bytes"), save=False)
    photo.thumbnail.save(f"t{listing.pk}.jpg", ContentFile(b"jpeg bytes"), save=False)
    photo.save()
    return listing


def dated_search() -> str:
    check_in = timezone.localdate() + datetime.timedelta(days=10)
    return f"{UNDATED}&check_in={check_in}&check_out={check_in + datetime.timedelta(days=2)}&guests=2"


def test_anonymous_home_comes_from_the_cache_for_a_minute_at_most(client, host, django_assert_num_queries):
    with_photo(make_listing(host, title="Tiwi Beach House"))
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert "Tiwi Beach House" in client.get("/").content.decode()
        with_photo(make_listing(host, title="Galu Kinondo Villa"))
        with django_assert_num_queries(0):
            cached = client.get("/")
        assert "Tiwi Beach House" in cached.content.decode()
        assert "Galu Kinondo Villa" not in cached.content.decode()
        clock.shift(61)
        assert "Galu Kinondo Villa" in client.get("/").content.decode()


def test_undated_search_comes_from_the_cache_and_its_fragment_separately(client, host):
    make_listing(host, title="Tiwi Beach House")
    assert "Tiwi Beach House" in client.get(UNDATED).content.decode()
    make_listing(host, title="Galu Kinondo Villa")
    again = client.get(UNDATED)
    fragment = client.get(UNDATED, headers={"HX-Request": "true"})
    assert "Galu Kinondo Villa" not in again.content.decode()
    assert "<html" in again.content.decode()
    assert "<html" not in fragment.content.decode()
    assert 'id="search-results"' in fragment.content.decode()
    assert fragment["Vary"] and "HX-Request" in fragment["Vary"]


def test_a_dated_search_is_never_cached(client, host):
    make_listing(host, title="Tiwi Beach House")
    assert "Tiwi Beach House" in client.get(dated_search()).content.decode()
    make_listing(host, title="Galu Kinondo Villa")
    assert "Galu Kinondo Villa" in client.get(dated_search()).content.decode()


def test_a_signed_in_visitor_never_gets_nor_leaves_a_cached_page(client, host, make_user):
    with_photo(make_listing(host, title="Tiwi Beach House"))
    assert "Sign in" in Client().get("/").content.decode()  # an anonymous visitor's page is stored
    with_photo(make_listing(host, title="Galu Kinondo Villa"))
    client.force_login(make_user(email="amina@example.com", full_name="Amina Njeri"))
    home = client.get("/").content.decode()
    assert "Galu Kinondo Villa" in home
    assert "Amina" in home
    search = client.get(UNDATED).content.decode()
    assert "Galu Kinondo Villa" in search
    assert "Amina" in search
    # Nor did the signed-in pages go into the cache for anonymous visitors.
    caches["pages"].clear()
    client.get("/")
    assert "Amina" not in Client().get("/").content.decode()


def nonces(response) -> tuple[str, set[str]]:
    """The nonce the response's CSP header allows, and the nonces its scripts carry."""
    header = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    return header, set(re.findall(r'<script[^>]* nonce="([^"]+)"', response.content.decode()))


def test_every_page_from_the_cache_has_its_own_nonce_in_its_header_and_its_scripts(host):
    with_photo(make_listing(host, title="Tiwi Beach House"))
    responses = [Client().get(url) for url in ("/", "/", "/", UNDATED, UNDATED)]
    header_nonces = []
    for response in responses:
        header, in_scripts = nonces(response)
        assert in_scripts == {header}
        header_nonces.append(header)
    assert len(set(header_nonces)) == len(responses)


def test_a_page_from_the_cache_sets_no_csrf_cookie_and_each_visitor_signs_in_with_their_own_token(host):
    with_photo(make_listing(host, title="Tiwi Beach House"))
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    for visitor in (first, second):
        page = visitor.get("/")  # the first from the view, the second from the cache
        assert "X-CSRFToken" not in page.content.decode() and "csrftoken" not in page.cookies
    sign_in = reverse("account_login")
    tokens = [
        re.search(r'name="csrfmiddlewaretoken" value="(\w+)"', visitor.get(sign_in).content.decode()).group(1)
        for visitor in (first, second)
    ]
    data = {"login": "nobody@example.com", "password": "wrong"}
    # Each visitor's token is accepted with their own cookie, and the first visitor's is not the second's.
    assert second.post(sign_in, data, headers={"X-CSRFToken": tokens[1]}).status_code != 403
    assert second.post(sign_in, data, headers={"X-CSRFToken": tokens[0]}).status_code == 403
    assert first.post(sign_in, data, headers={"X-CSRFToken": tokens[0]}).status_code != 403


@cache_anonymous_page()
def _page_with_a_form(request):
    form = engines["django"].from_string('<form method="post">{% csrf_token %}</form>')
    return HttpResponse(form.render(request=request))


urlpatterns = [path("with-a-form/", _page_with_a_form), path("", include("config.urls"))]


@pytest.mark.urls(__name__)
def test_a_page_that_prints_a_csrf_token_is_never_stored_and_each_visitor_gets_their_own():
    first, second = Client(), Client()
    pages = [first.get("/with-a-form/"), second.get("/with-a-form/")]
    assert all("csrftoken" in page.cookies for page in pages)  # the second was computed too, not taken from the cache
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value


def test_a_visitor_with_a_message_waiting_gets_it_and_nobody_else_does(host, make_user):
    with_photo(make_listing(host, title="Tiwi Beach House"))
    assert 'id="messages"' not in Client().get("/").content.decode()  # the page is in the cache
    leaving = Client()
    leaving.force_login(make_user(email="amina@example.com", full_name="Amina Njeri"))
    leaving.post(reverse("account_logout"))
    assert 'id="messages"' in leaving.get("/").content.decode()  # "You have signed out."
    assert 'id="messages"' not in leaving.get("/").content.decode()  # shown once
    assert 'id="messages"' not in Client().get("/").content.decode()
