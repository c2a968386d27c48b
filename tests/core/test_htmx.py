"""Whether a request comes from htmx and wants a fragment, read as django-htmx reads it (core/htmx.py)."""

import itertools

import pytest
from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from core.htmx import is_fragment_request, is_htmx_request

VALUES = [None, "", "true", "false", "True", "%74rue", "1"]


@pytest.mark.parametrize(
    ("hx_request", "hx_boosted", "auto_encoded"),
    list(itertools.product(VALUES, VALUES, [None, "true", "false"])),
)
def test_read_as_django_htmx_reads_it(hx_request, hx_boosted, auto_encoded):
    headers = {"HX-Request": hx_request, "HX-Boosted": hx_boosted}
    if auto_encoded:
        headers |= {"HX-Request-URI-AutoEncoded": auto_encoded, "HX-Boosted-URI-AutoEncoded": auto_encoded}
    request = RequestFactory().get("/", headers={name: value for name, value in headers.items() if value is not None})
    details = HtmxDetails(request)
    assert is_htmx_request(request) is bool(details)
    assert is_fragment_request(request) is (bool(details) and not details.boosted)


def test_a_plain_request_and_an_htmx_one():
    factory = RequestFactory()
    assert not is_fragment_request(factory.get("/"))
    assert is_fragment_request(factory.get("/", headers={"HX-Request": "true"}))
    boosted = factory.get("/", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert is_htmx_request(boosted) and not is_fragment_request(boosted)
