import pytest

from listings.models import Listing
from reservations.models import Booking
from tests.helpers.bookings import stay_booking
from tests.helpers.stays import past_stay
from tests.listings.builders import make_listing


@pytest.fixture
def host(make_user):
    return make_user("hassan@example.com", full_name="Hassan Otieno")


@pytest.fixture
def guest(make_user):
    return make_user("grace@example.com", full_name="Grace Wanjiku")


@pytest.fixture
def listing(host) -> Listing:
    return make_listing(host, title="Garden cottage in Karen")


@pytest.fixture
def stay_done(listing, guest) -> Booking:
    """A confirmed, fully paid stay whose check-out was yesterday."""
    return stay_booking(listing, guest, past_stay(checked_out_days_ago=1))
