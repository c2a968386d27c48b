"""Reports of reviews and listings, and the console's moderation queue at /support/reports/."""

import pytest
from django.contrib.auth.models import Permission

from reviews.models import ModerationAction, Report
from reviews.services import REPORTS_PER_DAY
from tests.helpers.support import support_user
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db

REASON = "Asks guests to pay a private paybill number."


@pytest.fixture
def moderator(make_user):
    user = support_user(make_user, email="lead@example.com", full_name="Linet Lead")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="reviews", codename="moderate_content"))
    return user


@pytest.fixture
def agent(make_user):
    return support_user(make_user, email="agent@example.com", full_name="Sam Agent")


@pytest.fixture
def reviewed(listing, published_reviews):
    reviews = published_reviews(listing, 3, rating=5)
    return reviews[0]


def test_a_report_hides_a_review_through_the_console_and_the_average_changes(
    client, make_user, listing, reviewed, published_reviews, moderator
):
    published_reviews(listing, 1, rating=1)
    listing.refresh_from_db()
    assert (listing.review_count, listing.rating_sum) == (4, 16)
    reporter = make_user("reporter@example.com")
    client.force_login(reporter)
    assert client.get(f"/reviews/{reviewed.pk}/report/").status_code == 200
    assert client.post(f"/reviews/{reviewed.pk}/report/", {"reason": REASON}).status_code == 302
    report = Report.objects.get()
    client.force_login(moderator)
    queue = client.get("/support/reports/").content.decode()
    assert f'data-report="{report.pk}"' in queue and REASON in queue
    # A reason is required.
    assert client.post(f"/support/reports/{report.pk}/", {"action": "hide", "reason": ""}).status_code == 422
    assert (
        client.post(f"/support/reports/{report.pk}/", {"action": "hide", "reason": "Off-platform payment"}).status_code
        == 302
    )
    reviewed.refresh_from_db()
    listing.refresh_from_db()
    assert reviewed.hidden_at is not None
    assert (listing.review_count, listing.rating_sum) == (3, 11)
    assert f'data-review="{reviewed.pk}"' not in client.get(f"/listings/{listing.slug}/reviews/").content.decode()
    action = ModerationAction.objects.get()
    assert (action.actor, action.kind, action.reason, action.review) == (
        moderator,
        "hide_review",
        "Off-platform payment",
        reviewed,
    )
    report.refresh_from_db()
    assert report.status == "closed"
    # Restored from the hidden list, with a reason: it counts again.
    assert (
        client.post(
            f"/support/reports/reviews/{reviewed.pk}/restore/", {"reason": "Checked: no payment asked"}
        ).status_code
        == 302
    )
    listing.refresh_from_db()
    assert (listing.review_count, listing.rating_sum) == (4, 16)
    assert ModerationAction.objects.filter(kind="restore_review").count() == 1


def test_a_reported_listing_can_be_unpublished_with_a_reason(client, make_user, listing, moderator):
    client.force_login(make_user("reporter@example.com"))
    assert client.post(f"/listings/{listing.slug}/report/", {"reason": REASON}).status_code == 302
    report = Report.objects.get()
    client.force_login(moderator)
    response = client.post(f"/support/reports/{report.pk}/", {"action": "unpublish", "reason": "Scam listing"})
    assert response.status_code == 302
    listing.refresh_from_db()
    assert not listing.is_published
    assert ModerationAction.objects.get().kind == "unpublish_listing"
    assert client.get(listing.get_absolute_url()).status_code == 404


def test_hiding_a_listing_report_is_refused_with_a_sentence(client, make_user, listing, moderator):
    client.force_login(make_user("reporter@example.com"))
    client.post(f"/listings/{listing.slug}/report/", {"reason": REASON})
    client.force_login(moderator)
    response = client.post(f"/support/reports/{Report.objects.get().pk}/", {"action": "hide", "reason": "Not a review"})
    assert response.status_code == 422
    assert "about a listing" in response.content.decode()


def test_only_moderators_reach_the_queue(client, agent, make_user, listing, reviewed):
    client.force_login(make_user("reporter@example.com"))
    client.post(f"/reviews/{reviewed.pk}/report/", {"reason": REASON})
    report = Report.objects.get()
    client.force_login(agent)  # a support agent without moderate_content
    assert client.get("/support/reports/").status_code == 404
    assert client.post(f"/support/reports/{report.pk}/", {"action": "hide", "reason": "nope nope"}).status_code == 404
    client.logout()
    assert client.get("/support/reports/").status_code == 302
    reviewed.refresh_from_db()
    assert reviewed.hidden_at is None


def test_reports_are_limited_to_a_few_a_day_per_person(client, make_user, host):
    client.force_login(make_user("reporter@example.com"))
    listings = [make_listing(host) for _ in range(REPORTS_PER_DAY + 1)]
    for listing in listings[:REPORTS_PER_DAY]:
        assert client.post(f"/listings/{listing.slug}/report/", {"reason": REASON}).status_code == 302
    response = client.post(f"/listings/{listings[-1].slug}/report/", {"reason": REASON})
    assert response.status_code == 422
    assert "most reports allowed in a day" in response.content.decode()
    assert Report.objects.count() == REPORTS_PER_DAY


def test_reporting_needs_sign_in_and_a_reason(client, make_user, listing):
    assert client.post(f"/listings/{listing.slug}/report/", {"reason": REASON}).status_code == 302
    assert not Report.objects.exists()
    client.force_login(make_user("reporter@example.com"))
    assert client.post(f"/listings/{listing.slug}/report/", {"reason": "bad"}).status_code == 422
    assert client.post("/reviews/999999/report/", {"reason": REASON}).status_code == 404
    assert not Report.objects.exists()
