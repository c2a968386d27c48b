"""The WSGI handler the served site runs (config/wsgi.py): Django's, with each request emptied when it is closed."""

from django.core.handlers.wsgi import WSGIHandler as DjangoWSGIHandler
from django.core.handlers.wsgi import WSGIRequest as DjangoWSGIRequest


class WSGIRequest(DjangoWSGIRequest):
    """Django's request, emptied when Django closes it with its response (after its last byte was sent).

    Middleware leaves objects on a request that refer back to it (the lazy user's closure, the messages' storage,
    htmx's details), so a request and everything reachable from it (the page's listing, its month, its form) was freed
    by the garbage collector rather than by its reference count: in a worker, a hundred requests' garbage at a time,
    long after it had left the CPU's caches. Emptied, a request is freed as soon as its response is closed (with
    core.template_backends, which empties the template's context): the collector's time a request in one process,
    property page 72 -> 0.6 us and dated search 165 -> 0.5 us, without its pauses of 5-12 ms every hundred requests
    or so. A test checks that a served page leaves nothing for the collector (tests/core/test_wsgi.py);
    bench/demo_pages.py prints the pages' ratios to /healthz."""

    def close(self) -> None:
        super().close()
        self.__dict__.clear()


class WSGIHandler(DjangoWSGIHandler):
    request_class = WSGIRequest
