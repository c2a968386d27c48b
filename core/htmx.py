from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

# htmx 2 stops polling when a poll answers with this status.
HTMX_STOP_POLLING = 286


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def is_fragment_request(request: HtmxHttpRequest) -> bool:
    """True for htmx requests that want a fragment; hx-boost navigations want the whole page."""
    return bool(request.htmx) and not request.htmx.boosted
