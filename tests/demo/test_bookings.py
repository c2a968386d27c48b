import pytest
from django.core.management import call_command

from core.models import User
from reservations.models import Booking, BookingGuest
from reservations.selectors import trips_for_user

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_bookings_for_the_demo_guest_once(settings, client):
    settings.DEBUG = True
    call_command("seed_demo")
    guest = User.objects.get(email="guest@nexus.test")
    statuses = set(Booking.objects.filter(booker=guest).values_list("status", flat=True))
    assert statuses == {"confirmed", "cancelled", "held"}
    trips = trips_for_user(user=guest)
    assert trips.past and trips.upcoming and trips.cancelled
    linked = BookingGuest.objects.get(user=guest, booking__booker__email="omar@nexus.test")
    assert linked.position > 0 and linked.booking.status == "confirmed"
    assert all(booking.guest_count >= 2 for booking in Booking.objects.all())
    counts = (Booking.objects.count(), BookingGuest.objects.count())

    call_command("seed_demo")
    assert (Booking.objects.count(), BookingGuest.objects.count()) == counts

    client.force_login(User.objects.get(email="guest@nexus.test"))  # the seed set the password again
    html = client.get("/trips/").content.decode()
    assert linked.booking.ref in html and "You are a guest" in html
    host = User.objects.get(email="host@nexus.test")
    client.force_login(host)
    assert linked.booking.ref in client.get("/host/bookings/").content.decode()
