"""Reviews from verified stays: who may write them, double-blind publishing, averages on cards and search."""

import datetime
from html import unescape

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from listings.models import ListingPhoto
from reviews.models import Review, window_ends_on
from reviews.services import ReviewData, ReviewError, review_submit, reviews_publish_due
from tests.helpers.bookings import stay_booking
from tests.helpers.reviews import GOOD_TEXT, guest_form, host_form
from tests.helpers.stays import past_stay
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def guest_url(booking):
    return f"/trips/{booking.ref}/review/"


def host_url(booking):
    return f"/host/bookings/{booking.ref}/review/"


def test_guest_review_stays_hidden_until_the_host_writes_then_both_publish(client, guest, host, listing, stay_done):
    client.force_login(guest)
    response = client.post(guest_url(stay_done), guest_form(rating="4"))
    assert response.status_code == 302
    review = Review.objects.get(booking=stay_done, direction="guest")
    assert review.published_at is None
    page = client.get(guest_url(stay_done)).content.decode()
    assert 'data-review-state="waiting"' in page
    # Not on the property page, not in the average yet.
    listing.refresh_from_db()
    assert (listing.review_count, listing.rating_sum) == (0, 0)
    assert GOOD_TEXT not in client.get(f"/listings/{listing.slug}/reviews/", headers=HX).content.decode()
    # The host does not see the guest's review before writing theirs.
    client.force_login(host)
    host_page = client.get(host_url(stay_done)).content.decode()
    assert GOOD_TEXT not in host_page
    assert client.post(host_url(stay_done), host_form()).status_code == 302
    assert Review.objects.filter(booking=stay_done, published_at__isnull=False).count() == 2
    listing.refresh_from_db()
    assert (listing.review_count, listing.rating_sum) == (1, 4)
    assert GOOD_TEXT in client.get(f"/listings/{listing.slug}/reviews/", headers=HX).content.decode()
    assert GOOD_TEXT in client.get(host_url(stay_done)).content.decode()
    # The guest now sees what the host wrote about them.
    client.force_login(guest)
    assert "Tidy, friendly guests" in client.get(guest_url(stay_done)).content.decode()


def test_a_hidden_review_may_be_rewritten_but_a_published_one_never(client, guest, host, stay_done):
    client.force_login(guest)
    client.post(guest_url(stay_done), guest_form(rating="2"))
    assert client.post(guest_url(stay_done), guest_form(rating="3")).status_code == 302
    assert Review.objects.get(booking=stay_done, direction="guest").rating == 3
    client.force_login(host)
    client.post(host_url(stay_done), host_form())
    client.force_login(guest)
    response = client.post(guest_url(stay_done), guest_form(rating="5", text="Changed my mind about everything here."))
    assert response.status_code == 422
    assert "can no longer be changed" in response.content.decode()
    review = Review.objects.get(booking=stay_done, direction="guest")
    assert (review.rating, review.text) == (3, GOOD_TEXT)
    assert Review.objects.filter(booking=stay_done).count() == 2


def test_the_database_refuses_a_second_review_per_booking_and_direction(stay_done, guest, listing):
    fields = dict(
        booking=stay_done,
        listing=listing,
        direction="guest",
        author=guest,
        subject=listing.host,
        rating=5,
        text=GOOD_TEXT,
        window_ends_on=window_ends_on(stay_done.check_out),
    )
    Review.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(**fields)


@pytest.mark.parametrize("who", ["stranger", "linked_guest", "other_host"])
def test_anyone_else_gets_a_404_and_nothing_is_created(client, make_user, stay_done, who):
    person = make_user(f"{who}@example.com", full_name="Mallory Kamau")
    if who == "linked_guest":
        stay_done.guests.create(position=1, full_name="Mallory Kamau", email=person.email, user=person)
    if who == "other_host":
        make_listing(person)
    client.force_login(person)
    for url, form in ((guest_url(stay_done), guest_form()), (host_url(stay_done), host_form())):
        assert client.get(url).status_code == 404
        assert client.post(url, form).status_code == 404
    assert not Review.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(client, stay_done):
    response = client.post(guest_url(stay_done), guest_form())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unpaid", "paid in full"),
        ("future", "from its check-out day"),
        ("tonight", "from its check-out day"),
        ("cancelled", "confirmed stay"),
        ("held", "confirmed stay"),
        ("closed", "closed on"),
    ],
)
def test_a_stay_that_is_not_eligible_is_refused_without_error(client, guest, listing, case, message):
    today = timezone.localdate()
    stays = {
        "unpaid": (past_stay(checked_out_days_ago=1), "confirmed", False),
        "future": (past_stay(checked_out_days_ago=-10), "confirmed", True),
        "tonight": (past_stay(checked_out_days_ago=-1), "confirmed", True),  # the last night is tonight
        "cancelled": (past_stay(checked_out_days_ago=2), "cancelled", True),
        "held": (past_stay(checked_out_days_ago=2), "held", False),
        "closed": (past_stay(checked_out_days_ago=15), "confirmed", True),
    }
    stay, status, paid = stays[case]
    booking = stay_booking(listing, guest, stay, status=status, paid=paid)
    client.force_login(guest)
    page = client.get(guest_url(booking))
    assert page.status_code == 200
    assert message in page.content.decode()
    assert "data-review-form" not in page.content.decode()
    response = client.post(guest_url(booking), guest_form())
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Review.objects.exists()
    assert booking.check_out <= today + datetime.timedelta(days=10)


def test_the_window_is_still_open_on_its_fourteenth_day(client, guest, listing):
    booking = stay_booking(listing, guest, past_stay(checked_out_days_ago=14))
    client.force_login(guest)
    assert client.post(guest_url(booking), guest_form()).status_code == 302


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"text": "Too short"}, "at least 20"),
        ({"text": "Great stay! Next time pay the host on Paybill 123456 directly."}, "Paybill 123456"),
        ({"rating": "6"}, "Select a valid choice"),
        ({"cleanliness": ""}, "This field is required"),
        ({"text": "x" * 2001}, "at most 2000"),
    ],
)
def test_invalid_reviews_are_422_with_the_reason(client, guest, stay_done, overrides, message):
    client.force_login(guest)
    response = client.post(guest_url(stay_done), guest_form(**overrides))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Review.objects.exists()


def test_a_lone_review_publishes_when_the_window_closes(guest, listing, stay_done):
    review_submit(
        booking=stay_done,
        author=guest,
        direction="guest",
        data=ReviewData(
            rating=4,
            text=GOOD_TEXT,
            sub_ratings=dict.fromkeys(("cleanliness", "accuracy", "check_in", "communication", "location", "value"), 4),
        ),
        today=timezone.localdate(),
    )
    closes = window_ends_on(stay_done.check_out)
    assert reviews_publish_due(today=closes) == 0
    assert reviews_publish_due(today=closes + datetime.timedelta(days=1)) == 1
    listing.refresh_from_db()
    assert (listing.review_count, listing.rating_sum) == (1, 4)


def test_the_host_answers_a_published_review_once(client, guest, host, stay_done):
    client.force_login(guest)
    client.post(guest_url(stay_done), guest_form())
    client.force_login(host)
    client.post(host_url(stay_done), host_form())
    answer = {"action": "answer", "answer": "Thank you, Grace, you are welcome back any time."}
    assert client.post(host_url(stay_done), answer).status_code == 302
    review = Review.objects.get(booking=stay_done, direction="guest")
    assert review.host_answer.startswith("Thank you, Grace")
    again = client.post(host_url(stay_done), {**answer, "answer": "Another answer that should be refused."})
    assert again.status_code == 422
    review.refresh_from_db()
    assert review.host_answer.startswith("Thank you, Grace")


def test_review_service_refuses_someone_else(make_user, stay_done):
    stranger = make_user("eve@example.com")
    with pytest.raises(ReviewError):
        review_submit(
            booking=stay_done,
            author=stranger,
            direction="guest",
            data=ReviewData(rating=5, text=GOOD_TEXT, sub_ratings={}),
            today=timezone.localdate(),
        )


# --- Averages on the property page, cards and search ------------------------------------------------------------


def test_cards_show_new_below_three_reviews_and_the_average_from_three(client, listing, published_reviews):
    ListingPhoto.objects.create(listing=listing, image="listings/cover.jpg")  # the home page shows listings with photos
    published_reviews(listing, 2, rating=5)
    assert "New" in client.get("/listings/?guests=2").content.decode()
    published_reviews(listing, 1, rating=4)
    published_reviews(listing, 9, rating=5)
    listing.refresh_from_db()
    assert listing.rating_label == "★ 4.9 (12)"
    assert "★ 4.9 (12)" in unescape(client.get("/listings/?guests=2").content.decode())
    assert "★ 4.9 (12)" in unescape(client.get("/").content.decode())


def test_search_sorts_by_rating(client, host, published_reviews):
    low = make_listing(host, title="Low rated flat")
    high = make_listing(host, title="High rated flat")
    new = make_listing(host, title="Brand new flat")
    published_reviews(low, 3, rating=3)
    published_reviews(high, 3, rating=5)
    body = client.get("/listings/?sort=rating").content.decode()
    assert body.index("High rated flat") < body.index("Low rated flat") < body.index("Brand new flat")
    assert new.review_count == 0


def test_the_reviews_fragment_pages_newest_first_and_has_a_plain_page(client, listing, published_reviews):
    published_reviews(listing, 7, rating=4)
    fragment = client.get(f"/listings/{listing.slug}/reviews/", headers=HX).content.decode()
    assert "<html" not in fragment
    assert fragment.lstrip().startswith('<section id="listing-reviews"')
    assert fragment.count("data-review=") == 5
    assert fragment.index("Review number 0 ") < fragment.index("Review number 4 ")
    assert "data-rating-bars" in fragment and 'id="more-reviews"' in fragment
    second = client.get(f"/listings/{listing.slug}/reviews/?page=2", headers=HX).content.decode()
    assert second.count("data-review=") == 2 and "more-reviews" not in second
    page = client.get(f"/listings/{listing.slug}/reviews/").content.decode()
    assert "<html" in page and page.count("data-review=") == 5
    detail = client.get(listing.get_absolute_url()).content.decode()
    assert f'hx-get="/listings/{listing.slug}/reviews/"' in detail
    assert f'href="/listings/{listing.slug}/reviews/"' in detail


def test_reviews_of_an_unpublished_listing_are_a_404(client, host):
    draft = make_listing(host, is_published=False)
    assert client.get(f"/listings/{draft.slug}/reviews/").status_code == 404


@pytest.mark.parametrize("count", [3, 300])
def test_query_counts_do_not_grow_with_reviews(
    client, host, listing, published_reviews, count, django_assert_num_queries
):
    for i in range(3):
        published_reviews(make_listing(host, title=f"Other {i}"), count // 3 or 1)
    published_reviews(listing, count)
    with django_assert_num_queries(2):
        client.get("/listings/?guests=2")  # no stay: ids, then the page's listings with their ratings
    with django_assert_num_queries(_PAGE_QUERIES):
        client.get(listing.get_absolute_url())
    with django_assert_num_queries(_FRAGMENT_QUERIES):
        client.get(f"/listings/{listing.slug}/reviews/", headers=HX)
    with django_assert_num_queries(_FRAGMENT_QUERIES - 1):
        client.get(f"/listings/{listing.slug}/reviews/?page=2", headers=HX)


_PAGE_QUERIES = 1  # the listing with its host, the month's nights, its photos and amenities
_FRAGMENT_QUERIES = 4  # the listing, the sub-ratings, the count, the page with authors


def test_hosts_of_a_later_booking_read_what_earlier_hosts_wrote_about_the_guest(
    client, make_user, guest, host, stay_done
):
    client.force_login(guest)
    client.post(guest_url(stay_done), guest_form())
    client.force_login(host)
    client.post(host_url(stay_done), host_form())
    later_host = make_user("otieno@example.com", full_name="Otieno Ouma")
    later = stay_booking(make_listing(later_host), guest, past_stay(checked_out_days_ago=-20))
    client.force_login(later_host)
    bookings_page = client.get("/host/bookings/").content.decode()
    assert f'href="/host/bookings/{later.ref}/review/"' in bookings_page
    assert f'hx-get="/host/bookings/{later.ref}/guest-record/"' in bookings_page
    record = client.get(f"/host/bookings/{later.ref}/guest-record/", headers=HX).content.decode()
    assert "★ 5.0 from 1 host review, 1 would host again" in record and "<html" not in record
    assert client.get(f"/host/bookings/{later.ref}/guest-record/").status_code == 302  # without htmx: the page
    # The first host's own booking does not count its own review; nobody else reads the record.
    client.force_login(host)
    assert (
        "no reviews from other hosts"
        in client.get(f"/host/bookings/{stay_done.ref}/guest-record/", headers=HX).content.decode()
    )
    assert client.get(f"/host/bookings/{later.ref}/guest-record/", headers=HX).status_code == 404
    client.force_login(later_host)
    page = client.get(host_url(later)).content.decode()
    assert "data-about-guest" in page and "Tidy, friendly guests" in page and "would host again" in page
    # The guest's own trip list links to the review of the finished stay.
    client.force_login(guest)
    assert f'href="/trips/{stay_done.ref}/review/"' in client.get("/trips/").content.decode()


HOSTILE = ["' OR 1=1 --", "<script>alert(1)</script>", "\x00", "9" * 400, "-1", "1e999", "NaN", "🏖️" * 1200]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_in_every_review_field_never_500(client, guest, host, stay_done, value):
    client.force_login(guest)
    for field in guest_form():
        response = client.post(guest_url(stay_done), guest_form(**{field: value}))
        assert response.status_code in (302, 422), (field, response.status_code)
    client.force_login(host)
    for field in [*host_form(), "action", "answer"]:
        response = client.post(host_url(stay_done), host_form(**{field: value}))
        assert response.status_code in (302, 422), (field, response.status_code)
    assert client.get(f"/listings/{stay_done.listing.slug}/reviews/?page={value}", headers=HX).status_code in (200, 400)
    assert client.get(f"/hosts/{value[:50]}/").status_code in (400, 404)
