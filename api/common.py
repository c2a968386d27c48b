"""What every API view shares: the page links, a month parameter, the signed-in requirement."""

import datetime

from rest_framework.permissions import IsAuthenticated
from rest_framework.utils.urls import remove_query_param, replace_query_param

from api.errors import InvalidInput
from listings.selectors import month_from_query


def page_links(request, page) -> tuple[str | None, str | None]:
    """Absolute links to the next and previous pages of a Django Page, keeping the other parameters."""
    url = request.build_absolute_uri()
    next_url = replace_query_param(url, "page", page.next_page_number()) if page.has_next() else None
    previous_url = None
    if page.has_previous():
        number = page.previous_page_number()
        previous_url = remove_query_param(url, "page") if number == 1 else replace_query_param(url, "page", number)
    return next_url, previous_url


def month_param(request) -> datetime.date | None:
    """?month=YYYY-MM as its first day; None when left out; 422 when it is not a month."""
    value = request.query_params.get("month")
    if value is None or value == "":
        return None
    month = month_from_query(value) if len(value) == 7 else None
    if month is None:
        raise InvalidInput({"month": ["Give the month as YYYY-MM."]})
    return month


def month_label(day: datetime.date | None) -> str | None:
    return f"{day:%Y-%m}" if day else None


class SignedIn(IsAuthenticated):
    """Signed in through the headless API (X-Session-Token) or the session cookie."""
