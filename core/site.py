"""This site's name and absolute address: the one place every absolute link, e-mail sender and greeting reads."""

from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from urllib.parse import urlsplit

from django.conf import settings

LOCAL_SITE_URL = "http://127.0.0.1:8000"


def site_url() -> str:
    """The site's base URL without a trailing slash: SITE_URL (on Render it defaults to RENDER_EXTERNAL_URL), else
    the public base URL M-Pesa calls back, else `make run`'s address."""
    url = settings.SITE_URL or settings.MPESA_CALLBACK_BASE_URL or LOCAL_SITE_URL
    return url.rstrip("/")


def site_name() -> str:
    return settings.SITE_NAME


def email_sender() -> str:
    """Every e-mail's From: SITE_NAME, at DEFAULT_FROM_EMAIL's address."""
    return formataddr((site_name(), parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))


def email_subject(subject: str) -> str:
    """A subject line as every e-mail of ours starts: with the site's name in brackets."""
    return f"[{site_name()}] {subject}"


def absolute_url(path: str) -> str:
    """`path` (a site-relative URL such as reverse() gives, or an absolute one on whatever host a request came
    in on) on the site's own address."""
    parts = urlsplit(path)
    tail = parts.path or "/"
    if parts.query:
        tail += f"?{parts.query}"
    if parts.fragment:
        tail += f"#{parts.fragment}"
    return site_url() + tail


@dataclass(frozen=True)
class Site:
    """What allauth's e-mail templates read as `current_site`: our name, and the domain of SITE_URL."""

    name: str
    domain: str


def current_site() -> Site:
    return Site(name=site_name(), domain=urlsplit(site_url()).netloc)
