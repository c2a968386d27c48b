"""URLs remembered per name and arguments (core/reverse.py) are the URLs Django's reverse gives."""

import pytest
from django.urls import path
from django.urls import reverse as django_reverse
from django.urls.exceptions import NoReverseMatch

from core.reverse import reverse


def _page(request):
    raise AssertionError("never requested")


urlpatterns = [path("elsewhere/<slug:slug>/", _page, name="listing-detail")]


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [
        ("home", None, None),
        ("listings:listing-detail", None, {"slug": "tiwi-beach-house"}),
        ("listings:listing-quote", ["tiwi-beach-house"], None),
        ("reservations:booking-new", None, {"slug": "galu-kinondo-villa"}),
    ],
)
def test_a_url_is_djangos_the_first_time_and_every_time_after(name, args, kwargs):
    expected = django_reverse(name, args=args, kwargs=kwargs)
    assert [reverse(name, args=args, kwargs=kwargs) for _ in range(3)] == [expected] * 3


def test_a_name_that_does_not_match_fails_as_djangos_does():
    with pytest.raises(NoReverseMatch):
        reverse("listings:listing-detail", kwargs={"slug": "not a slug"})


def test_another_urlconf_and_script_prefix_give_their_own_urls(settings):
    assert reverse("listings:listing-detail", kwargs={"slug": "tiwi"}) == "/listings/tiwi/"
    settings.ROOT_URLCONF = __name__
    assert reverse("listing-detail", kwargs={"slug": "tiwi"}) == "/elsewhere/tiwi/"
    settings.ROOT_URLCONF = "config.urls"
    settings.FORCE_SCRIPT_NAME = "/nexus/"
    from django.urls import set_script_prefix

    set_script_prefix("/nexus/")
    try:
        assert reverse("listings:listing-detail", kwargs={"slug": "tiwi"}) == "/nexus/listings/tiwi/"
    finally:
        set_script_prefix("/")
    assert reverse("listings:listing-detail", kwargs={"slug": "tiwi"}) == "/listings/tiwi/"
