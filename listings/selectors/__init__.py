"""Every read of listings that is not trivial, one module per subject; import them from here.

- nights: which nights bookings take (through listings.taken_nights) and what the host set for each night
- quote: the stay rules and the price
- calendars: the host's and the guest's month
- covers: cover photos in the same query as their listings
- search: search results and the home page's cards
- listing: one listing's pages, photos and publishing checklist
- host: the host dashboard
"""

from listings.selectors.calendars import (
    CALENDAR_HORIZON_DAYS,
    GUEST_CALENDAR_MONTHS_AHEAD,
    AvailabilityMonth,
    GuestNight,
    HostCalendarMonth,
    HostNight,
    PropertyPage,
    availability_month,
    availability_month_and_quote,
    guest_month_bounds,
    host_calendar_month,
    host_month_bounds,
    month_from_query,
    month_start,
    month_weeks,
    property_page,
)
from listings.selectors.covers import cover_url, listing_cover_name
from listings.selectors.host import HOST_DASHBOARD_BOOKINGS, HostListingRow, host_upcoming_bookings, listings_for_host
from listings.selectors.listing import (
    listing_amenities,
    listing_get_for_host,
    listing_get_for_viewer,
    listing_photo_get_for_host,
    listing_photos,
    listing_publish_missing,
)
from listings.selectors.nights import (
    DAY,
    NightSettings,
    listing_booked_nights,
    nights_settings_and_bookings,
    nights_taken_by_bookings,
    taken_nights_by_listing,
)
from listings.selectors.quote import (
    Night,
    Quote,
    Stay,
    earliest_check_in,
    stay_quote,
    stay_quote_from_nights,
    stay_quotes,
    stay_quotes_from_nights,
)
from listings.selectors.search import (
    SEARCH_PAGE_SIZE,
    SORT_ORDERS,
    ListingCard,
    SearchQuery,
    SearchResults,
    counties_matching,
    listing_ids_matching,
    listing_search,
    listings_featured,
)

__all__ = [
    "AvailabilityMonth",
    "CALENDAR_HORIZON_DAYS",
    "DAY",
    "GUEST_CALENDAR_MONTHS_AHEAD",
    "GuestNight",
    "HOST_DASHBOARD_BOOKINGS",
    "HostCalendarMonth",
    "HostListingRow",
    "HostNight",
    "ListingCard",
    "Night",
    "NightSettings",
    "PropertyPage",
    "Quote",
    "SEARCH_PAGE_SIZE",
    "SORT_ORDERS",
    "SearchQuery",
    "SearchResults",
    "Stay",
    "availability_month",
    "availability_month_and_quote",
    "property_page",
    "counties_matching",
    "cover_url",
    "earliest_check_in",
    "guest_month_bounds",
    "host_calendar_month",
    "host_month_bounds",
    "host_upcoming_bookings",
    "listing_amenities",
    "listing_booked_nights",
    "listing_cover_name",
    "listing_get_for_host",
    "listing_get_for_viewer",
    "listing_ids_matching",
    "listing_photo_get_for_host",
    "listing_photos",
    "listing_publish_missing",
    "listing_search",
    "listings_featured",
    "listings_for_host",
    "month_from_query",
    "month_start",
    "month_weeks",
    "nights_settings_and_bookings",
    "nights_taken_by_bookings",
    "stay_quote",
    "stay_quote_from_nights",
    "stay_quotes",
    "stay_quotes_from_nights",
    "taken_nights_by_listing",
]
