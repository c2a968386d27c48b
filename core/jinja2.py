"""The Jinja2 environment for hot partials (cards, calendar cells, console rows) that Django templates include.

A page stays one Django template; where a repeated fragment's rendering cost shows in a bench, that fragment may be a
Jinja2 partial under templates/jinja2/<app>/_<name>.html, included with `{% jinja "<app>/_<name>.html" key=value %}`
(core/templatetags/jinja.py). It sees the same filters (`kes`, `phone`), `url()` and `static()`, the request and
its CSP nonce, and autoescapes as Django does.
"""

from django.middleware.csp import get_nonce
from django.templatetags.static import static
from django.urls import reverse
from jinja2 import Environment

from core.money import format_kes
from core.phone import format_phone


def kes(value) -> str:
    """As the Django `kes` filter: 12500 -> 'KES 12,500'."""
    if value is None or value == "":
        return ""
    return format_kes(int(value))


def phone(value) -> str:
    """As the Django `phone` filter: 254712345149 -> '0712 345 149'."""
    return format_phone(str(value or ""))


def url(name: str, *args, **kwargs) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


def csp_nonce(request) -> str:
    return str(get_nonce(request) or "") if request is not None else ""


def environment(**options) -> Environment:
    env = Environment(**options)
    env.filters.update(kes=kes, phone=phone)
    env.globals.update(url=url, static=static, csp_nonce=csp_nonce)
    return env
