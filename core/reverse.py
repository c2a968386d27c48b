"""URLs worked out once per name and arguments: `reverse` as Django's, remembered.

A URL is a pure function of its name, its arguments, the URLconf and the script prefix, all fixed for the life of a
process (tests that change them are told through setting_changed). Why: the property page reverses five URLs with
arguments (its own, the quote's, the reviews', the host's, the booking's): remembering them took 0.4 M of its 14.3 M
instructions (bench/instructions.py; bench/demo_pages.py prints its ratio to /healthz).
"""

import functools

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf
from django.urls import reverse as django_reverse

_MOST_URLS = 10_000


@functools.lru_cache(maxsize=_MOST_URLS)
def _reversed(name: str, args: tuple, kwargs: tuple, script_prefix: str, urlconf) -> str:
    return django_reverse(name, urlconf=urlconf, args=args or None, kwargs=dict(kwargs) or None)


def reverse(name: str, args=None, kwargs=None) -> str:
    """Django's reverse(name, args=..., kwargs=...), from memory after the first time."""
    try:
        return _reversed(
            name, tuple(args or ()), tuple(sorted((kwargs or {}).items())), get_script_prefix(), get_urlconf()
        )
    except TypeError:  # an argument that cannot be remembered (unhashable): worked out as Django does
        return django_reverse(name, args=args, kwargs=kwargs)


@receiver(setting_changed)
def _forget_urls(*, setting: str, **kwargs) -> None:
    """Tests that change the URLconf or the script prefix get fresh URLs."""
    if setting in {"ROOT_URLCONF", "FORCE_SCRIPT_NAME"}:
        _reversed.cache_clear()
