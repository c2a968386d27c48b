"""The API's interactive docs in a real browser: Swagger UI renders the schema from our own files, and the page's
Content Security Policy is never violated."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_api_docs_render_with_no_csp_violation(live_server, page):
    violations, outside = [], []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.on(
        "request",
        lambda request: outside.append(request.url) if not request.url.startswith((live_server.url, "data:")) else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => { window.__violations = (window.__violations || [])"
        ".concat([e.violatedDirective + ' ' + e.blockedURI]); });"
    )
    response = page.goto(live_server.url + "/api/docs/")
    assert "script-src" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Nexus API")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/bookings/{reference}/").first).to_be_visible()
    # The moved rules apply: the page's background comes from our static file.
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"
    assert page.evaluate("window.__violations || []") == []
    assert violations == [] and outside == []
