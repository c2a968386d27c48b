"""The OpenAPI schema and the interactive docs, served from our own static files (drf-spectacular-sidecar)."""

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


class Schema(SpectacularAPIView):
    """The OpenAPI 3 schema (YAML, or JSON by Accept), throttled like every call: building it costs CPU."""


class Docs(SpectacularSwaggerSplitView):
    """Swagger UI whose script is a file of its own (?script) and whose styles are a static file
    (templates/api/swagger_ui.html overrides the head): no inline script or style, so the CSP holds."""

    url_name = "api:schema"
    template_name = "api/swagger_ui.html"
