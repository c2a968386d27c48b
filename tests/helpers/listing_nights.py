"""The nights a listing's row carries on PostgreSQL (booked_nights, blocked_nights), beside the rows they come from."""

from django.db import connection

from tests.helpers.stays import d


def assert_listing_nights_in_step(column: str, *, table: str, night: str, where: str = "") -> dict[int, str]:
    """Every listing's `column` (a datemultirange) equals the nights aggregated from its rows in `table` (their
    date column `night`, the rows kept by `where`); returns each listing's nights as text."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT l.id, l.{column}::text,"
            f" (SELECT coalesce(range_agg(daterange(r.{night}, r.{night}, '[]')), '{{}}')::text"
            f"    FROM {table} r WHERE r.listing_id = l.id {where})"
            " FROM listings_listing l"
        )
        nights = {pk: (kept, rows) for pk, kept, rows in cursor.fetchall()}
    assert all(kept == rows for kept, rows in nights.values()), nights
    return {pk: kept for pk, (kept, _rows) in nights.items()}


def nights_text(*ranges: tuple[int, int]) -> str:
    """Half-open ranges of stay day numbers as PostgreSQL prints a datemultirange."""
    return "{" + ",".join(f"[{d(start)},{d(end)})" for start, end in ranges) + "}"
