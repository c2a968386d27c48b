"""The OpenAPI schema is valid and names every endpoint; the docs page loads only our own files."""

import pytest
import yaml
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "/api/v1/listings/": {"get"},
    "/api/v1/listings/{slug}/": {"get"},
    "/api/v1/listings/{slug}/availability/": {"get"},
    "/api/v1/listings/{slug}/quote/": {"get"},
    "/api/v1/bookings/": {"get", "post"},
    "/api/v1/bookings/{reference}/": {"get"},
    "/api/v1/bookings/{reference}/cancel/": {"post"},
    "/api/v1/bookings/{reference}/payments/": {"post"},
    "/api/v1/bookings/{reference}/payments/{payment_id}/": {"get"},
    "/api/v1/bookings/{reference}/payments/{payment_id}/check/": {"post"},
    "/api/v1/host/listings/": {"get", "post"},
    "/api/v1/host/listings/{slug}/": {"get", "patch"},
    "/api/v1/host/listings/{slug}/photos/": {"post"},
    "/api/v1/host/listings/{slug}/photos/{photo_id}/": {"delete"},
    "/api/v1/host/listings/{slug}/calendar/": {"get", "post"},
    "/api/v1/host/bookings/": {"get"},
}


def test_the_schema_is_valid_openapi_3_and_names_every_endpoint(client):
    answer = client.get("/api/schema/")
    assert answer.status_code == 200
    schema = yaml.safe_load(answer.content)
    validate(schema)
    assert schema["openapi"].startswith("3.")
    paths = {path: set(operations) - {"parameters"} for path, operations in schema["paths"].items()}
    assert paths == ENDPOINTS
    booking = schema["components"]["schemas"]["Booking"]["properties"]
    assert {"reference", "status", "blocks_until", "total_kes"} <= set(booking)
    assert schema["components"]["schemas"]["BookingStatusEnum"]["enum"] == [
        "held",
        "awaiting_payment",
        "confirmed",
        "expired",
        "cancelled",
    ]
    as_json = client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert as_json.json()["paths"].keys() == schema["paths"].keys()


def test_the_docs_page_has_no_inline_script_or_style(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<style" not in html and "<script>" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "/static/api/swagger_ui.css" in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
