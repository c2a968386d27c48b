"""What the browser journeys share besides fixtures: the two viewport sizes and the no-sideways-scroll check."""

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


def assert_no_horizontal_scroll(page) -> None:
    # Measured on a loaded page: right after a click that navigates, the old document may already be gone.
    page.wait_for_load_state("load")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"page scrolls sideways by {overflow}px at {page.viewport_size['width']}px wide"


def signed_in(context, live_server, user) -> None:
    """Give the browser context a session for the user (signing in through the form is tested on its own)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


def in_viewport(locator) -> bool:
    """The element is wholly inside the visible part of the page as it is now (no scrolling)."""
    return locator.evaluate(
        """element => { const box = element.getBoundingClientRect();
            return box.width > 0 && box.top >= 0 && box.left >= 0
                && box.bottom <= window.innerHeight && box.right <= window.innerWidth; }"""
    )


def tappable_on_screen(locator) -> bool:
    """At least a finger's worth (44 px, or all of it if smaller) of the element is on screen, its full width."""
    return locator.evaluate(
        """element => { const box = element.getBoundingClientRect();
            const shown = Math.min(box.bottom, window.innerHeight) - Math.max(box.top, 0);
            return box.width > 0 && box.left >= 0 && box.right <= window.innerWidth
                && shown >= Math.min(44, box.height); }"""
    )
