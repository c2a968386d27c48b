"""Another person's booking, payment, listing or photo is a 404 on every endpoint, for every role, with the same
answer as something that does not exist; a signed-out caller gets 401 before anything is looked up."""

import pytest
from django.core.files.base import ContentFile
from django.db import transaction

from listings.models import ListingPhoto
from reservations.services import GuestData
from tests.api.conftest import assert_problem
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_user, host, guest, hold, pending_payment, api_as, anonymous):
    """The guest's booking (with a linked friend) and its payment on the host's listing; a stranger; another host
    with an unpublished listing and a photo."""
    friend = make_user(email="friend@example.com", full_name="Faith Friend")
    stranger = make_user(email="stranger@example.com", full_name="Sam Stranger")
    other_host = make_user(email="otherhost@example.com", full_name="Olive Host")
    booking = hold(
        guest,
        10,
        13,
        guests=[GuestData(full_name=guest.full_name, email=guest.email), GuestData("Faith", friend.email)],
    )
    with transaction.atomic():
        payment = pending_payment(booking=booking)
    private = make_listing(other_host, is_published=False)
    photo = ListingPhoto.objects.create(listing=private, image=ContentFile(b"x", name="p.jpg"))
    return {
        "booking": booking,
        "payment": payment,
        "private": private,
        "photo": photo,
        "clients": {
            "friend": api_as(friend.email),
            "stranger": api_as(stranger.email),
            "host": api_as(host.email),
            "other_host": api_as(other_host.email),
            "anonymous": anonymous,
        },
        "booker": api_as(guest.email),
    }


def booking_calls(ref: str, payment_id: int) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", f"/api/v1/bookings/{ref}/", None),
        ("post", f"/api/v1/bookings/{ref}/cancel/", {}),
        ("post", f"/api/v1/bookings/{ref}/payments/", {"phone": "0708374149"}),
        ("get", f"/api/v1/bookings/{ref}/payments/{payment_id}/", None),
        ("post", f"/api/v1/bookings/{ref}/payments/{payment_id}/check/", {}),
    ]


def host_calls(slug: str, photo_id: int) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", f"/api/v1/host/listings/{slug}/", None),
        ("patch", f"/api/v1/host/listings/{slug}/", {"title": "Mine now"}),
        ("post", f"/api/v1/host/listings/{slug}/photos/", {}),
        ("delete", f"/api/v1/host/listings/{slug}/photos/{photo_id}/", None),
        ("get", f"/api/v1/host/listings/{slug}/calendar/", None),
        ("post", f"/api/v1/host/listings/{slug}/calendar/", {"first_night": "2030-01-01", "action": "block"}),
    ]


def call(client, method: str, path: str, body):
    if method == "get":
        return client.get(path)
    if method == "delete":
        return client.delete(path)
    return getattr(client, method)(path, body)


def _without_instance(body: dict) -> dict:
    return {key: value for key, value in body.items() if key != "instance"}


def test_someone_elses_booking_and_payment_are_404_for_every_role(world):
    booking, payment = world["booking"], world["payment"]
    # Who may do what: a linked guest reads the booking, nothing else; everyone else, nothing.
    allowed = {("friend", "get", f"/api/v1/bookings/{booking.ref}/")}
    for role, client in world["clients"].items():
        for method, path, body in booking_calls(booking.ref, payment.pk):
            answer = call(client, method, path, body)
            if role == "anonymous":
                assert_problem(answer, 401, "not_authenticated")
            elif (role, method, path) in allowed:
                assert answer.status_code == 200
            else:
                got = assert_problem(answer, 404, "not_found")
                missing = assert_problem(
                    call(client, method, path.replace(booking.ref, "NX-333333"), body), 404, "not_found"
                )
                assert _without_instance(got) == _without_instance(missing), (role, path)


def test_a_payment_of_another_booking_is_404_even_for_its_own_booker(world, guest, hold):
    other_booking = hold(guest, 20, 22)
    answer = world["booker"].get(f"/api/v1/bookings/{other_booking.ref}/payments/{world['payment'].pk}/")
    assert_problem(answer, 404, "not_found")


def test_someone_elses_listing_and_photo_are_404_for_every_role(world):
    private, photo = world["private"], world["photo"]
    for role, client in world["clients"].items():
        if role == "other_host":
            continue
        for method, path, body in host_calls(private.slug, photo.pk):
            answer = call(client, method, path, body)
            if role == "anonymous":
                assert_problem(answer, 401, "not_authenticated")
            else:
                assert_problem(answer, 404, "not_found")
        for path in (
            f"/api/v1/listings/{private.slug}/",
            f"/api/v1/listings/{private.slug}/availability/",
            f"/api/v1/listings/{private.slug}/quote/?check_in=2030-01-01&check_out=2030-01-03",
        ):
            assert_problem(client.get(path), 404, "not_found")
    assert private.photos.count() == 1 and private.title != "Mine now"


def test_a_photo_of_one_listing_is_404_under_another_of_the_same_host(world):
    mine = make_listing(world["private"].host)
    answer = world["clients"]["other_host"].delete(f"/api/v1/host/listings/{mine.slug}/photos/{world['photo'].pk}/")
    assert_problem(answer, 404, "not_found")


def test_the_host_bookings_list_never_shows_other_hosts_bookings(world):
    assert world["clients"]["other_host"].get("/api/v1/host/bookings/").json()["results"] == []
    assert world["clients"]["stranger"].get("/api/v1/bookings/").json()["results"] == []
