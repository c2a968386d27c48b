"""The console search: every key a caller might read out, filters that combine, an empty state, hostile input
answered with a message (never a 500), and the same number of queries however many payments there are."""

import datetime
import itertools
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import User
from core.services import user_update_profile
from mpesa.models import Payment, Refund
from reservations.services import GuestData
from support.selectors.search import PAGE_SIZE
from tests.listings.builders import make_listing

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
_numbers = itertools.count(1)


@pytest.fixture
def shop(make_user, host, hold, pending_payment):
    """Three payments by different people, at different times, phones and amounts."""
    wanjiku = make_user(email="wanjiku.kamau@example.com", full_name="Wanjiku Kamau")
    otieno = make_user(email="otieno@example.org", full_name="Brian Otieno")
    lamu = make_listing(host, title="Lamu rooftop house", slug="lamu-rooftop")
    a = hold(wanjiku, 3, 5, guests=[GuestData(full_name="Wanjiku Kamau"), GuestData(full_name="Akinyi Odhiambo")])
    b = hold(otieno, 3, 6, listing_obj=lamu)
    c = hold(otieno, 10, 12, listing_obj=lamu)
    first = pending_payment(booking=a, phone="254712345678")
    second = pending_payment(booking=b, phone="254722000111")
    third = pending_payment(booking=c, phone="254712345678", amount=4_500)
    Payment.objects.filter(pk=first.pk).update(
        status=Payment.Status.SUCCEEDED, receipt="UKK4H7TQ2M", created_at=timezone.now() - datetime.timedelta(days=3)
    )
    Payment.objects.filter(pk=second.pk).update(status=Payment.Status.FAILED, result_code="1032")
    return {"first": first, "second": second, "third": third, "a": a, "b": b}


def found(client, query: str) -> set[int]:
    response = client.get("/support/", {"q": query}, headers=HX)
    assert response.status_code == 200, response.content
    assert b"<html" not in response.content and b'id="support-results"' in response.content
    return {p.pk for p in response.context["results"].rows}


def test_a_receipt_finds_its_payment(agent_client, shop):
    assert found(agent_client, "UKK4H7TQ2M") == {shop["first"].pk}
    assert found(agent_client, " ukk4h7tq2m ") == {shop["first"].pk}


def test_a_receipt_of_letters_only_is_found_and_so_is_a_ten_letter_name(agent_client, shop, make_user):
    Payment.objects.filter(pk=shop["second"].pk).update(receipt="UKPVCEVXHY")
    assert found(agent_client, "UKPVCEVXHY") == {shop["second"].pk}
    assert found(agent_client, "ukpvcevxhy") == {shop["second"].pk}
    user_update_profile(user=User.objects.get(pk=shop["b"].booker_id), full_name="Brian Ochiengwalo", mpesa_phone="")
    assert found(agent_client, "ochiengwal") == {shop["second"].pk, shop["third"].pk}


def test_a_code_typed_by_the_guest_is_found_like_a_receipt(agent_client, shop):
    Payment.objects.filter(pk=shop["third"].pk).update(guest_code="UKL9Z8Y7X6")
    assert found(agent_client, "UKL9Z8Y7X6") == {shop["third"].pk}


def test_a_checkout_request_id_finds_its_payment(agent_client, shop):
    assert found(agent_client, shop["second"].checkout_request_id) == {shop["second"].pk}


@pytest.mark.parametrize(
    "spoken", ["0712 345 678", "0712345678", "+254 712 345 678", "254712345678", "712345678", "0712-345-678"]
)
def test_a_phone_number_in_any_form_a_caller_reads_it(agent_client, shop, spoken):
    assert found(agent_client, spoken) == {shop["first"].pk, shop["third"].pk}


@pytest.mark.parametrize("how", ["exact", "lower", "no dash"])
def test_a_booking_reference(agent_client, shop, how):
    ref = shop["b"].ref
    text = {"exact": ref, "lower": ref.lower(), "no dash": ref.replace("-", "")}[how]
    assert found(agent_client, text) == {shop["second"].pk}


def test_names_emails_and_listing_titles_by_fragment(agent_client, shop):
    assert found(agent_client, "wanjiku") == {shop["first"].pk}
    assert found(agent_client, "Akinyi") == {shop["first"].pk}  # a co-guest, not the booker
    assert found(agent_client, "example.org") == {shop["second"].pk, shop["third"].pk}
    assert found(agent_client, "rooftop") == {shop["second"].pk, shop["third"].pk}


def test_filters_combine_with_the_search(agent_client, shop):
    def ids(**params):
        response = agent_client.get("/support/", params, headers=HX)
        assert response.status_code == 200
        return {p.pk for p in response.context["results"].rows}

    assert ids(q="rooftop", status="failed") == {shop["second"].pk}
    assert ids(status="succeeded") == {shop["first"].pk}
    today = timezone.localdate()
    assert ids(date_from=today.isoformat()) == {shop["second"].pk, shop["third"].pk}
    assert ids(date_to=(today - datetime.timedelta(days=1)).isoformat()) == {shop["first"].pk}
    # A payment without a receipt: phone + amount + time window.
    assert ids(q="0712345678", amount_min=4_500, amount_max=4_500, date_from=today.isoformat()) == {shop["third"].pk}


def test_results_are_newest_first_with_whole_numbers_to_match_the_callers(agent_client, shop):
    response = agent_client.get("/support/", {"q": "0712345678"})
    assert response.status_code == 200 and b'id="today-figures"' in response.content  # works without JavaScript
    rows = response.context["results"].rows
    assert [p.pk for p in rows] == [shop["third"].pk, shop["first"].pk]
    html = response.content.decode()
    # The agent reads the number back to the caller: whole, grouped as dialled in Kenya, never 2547….
    assert html.count('<span class="whitespace-nowrap" data-phone>0712 345 678</span>') == 2
    assert "••• 678" not in html and "254712345678" not in html


def test_each_row_shows_when_its_payment_started_in_nairobi_time(agent_client, shop):
    first = Payment.objects.get(pk=shop["first"].pk)
    Payment.objects.filter(pk=first.pk).update(created_at=datetime.datetime(2026, 11, 20, 21, 30, tzinfo=datetime.UTC))
    response = agent_client.get("/support/", {"q": "UKK4H7TQ2M"})
    (row,) = response.context["results"].rows
    assert row.created_at == datetime.datetime(2026, 11, 20, 21, 30, tzinfo=datetime.UTC)
    # 21:30 UTC is 00:30 the next day in Nairobi
    assert '<time datetime="2026-11-21T00:30:00+03:00">21 Nov 2026 00:30</time>' in response.content.decode()


def test_the_search_box_searches_live_and_the_url_follows(agent_client, shop):
    html = agent_client.get("/support/").content.decode()
    assert 'hx-trigger="input delay:400ms, change, submit"' in html and 'hx-push-url="true"' in html


def test_nothing_found_says_so(agent_client, shop):
    response = agent_client.get("/support/", {"q": "Nobody Atall"}, headers=HX)
    assert response.status_code == 200 and b"No payments match this search." in response.content


@pytest.mark.parametrize(
    "params, message",
    [
        ({"q": "a" * 101}, b"at most 100 characters"),
        ({"date_from": "2026-13-45"}, b"valid date"),
        ({"date_from": "2026-12-10", "date_to": "2026-12-01"}, b"end date is before"),
        ({"amount_min": "5000", "amount_max": "10"}, b"maximum is below"),
        ({"amount_min": "-1"}, b"greater than or equal"),
        ({"status": "hacked"}, b"valid choice"),
        ({"page": "0"}, b"greater than or equal"),
        ({"q": "ab"}, b"at least 3 characters"),
    ],
)
def test_hostile_input_gets_a_clear_message_and_never_a_500(agent_client, shop, params, message):
    response = agent_client.get("/support/", params, headers=HX)
    assert response.status_code == 422 and message in response.content, response.content
    assert agent_client.get("/support/", params).status_code == 422


@pytest.mark.parametrize("number", ["+44 20 7946 0958", "0712 345 67", "+254 712 345 6789", "99999999999"])
def test_a_foreign_or_mistyped_phone_number_is_explained(agent_client, shop, number):
    for headers in ({}, HX):
        response = agent_client.get("/support/", {"q": number}, headers=headers)
        assert response.status_code == 422 and b"not a Kenyan mobile number" in response.content
    response = agent_client.get("/support/export.csv", {"q": number})
    assert response.status_code == 422 and b"not a Kenyan mobile number" in response.content


def test_a_search_that_can_match_nothing_is_an_empty_page():
    from support.selectors import SearchFilters, payment_search_page

    page = payment_search_page(filters=SearchFilters(q="+44 20 7946 0958"))
    assert page.rows == [] and not page.has_next


@pytest.mark.parametrize("params", [{"date_to": "9999-12-31"}, {"date_from": "0001-01-01"}, {"date_to": "1999-12-31"}])
def test_far_dates_are_refused_on_the_page_and_in_the_export(agent_client, shop, params):
    for headers in ({}, HX):
        response = agent_client.get("/support/", params, headers=headers)
        assert response.status_code == 422 and b"Choose a day between 2000-01-01 and 2099-12-31" in response.content
    response = agent_client.get("/support/export.csv", params)
    assert response.status_code == 422 and b"Choose a day between 2000-01-01 and 2099-12-31" in response.content
    assert not response.streaming


def test_the_last_and_first_days_allowed_are_searched(agent_client, shop):
    response = agent_client.get("/support/", {"date_from": "2000-01-01", "date_to": "2099-12-31"}, headers=HX)
    assert response.status_code == 200 and len(response.context["results"].rows) == 3
    export = agent_client.get("/support/export.csv", {"date_to": "2099-12-31"})
    assert export.status_code == 200 and len(b"".join(export.streaming_content).splitlines()) == 4


def test_a_nul_in_the_search_is_a_bad_request(agent_client, shop):
    # Refused before any view, as on every page (tests/core/test_unstorable_characters.py).
    assert agent_client.get("/support/", {"q": "x\x00y"}, headers=HX).status_code == 400
    assert agent_client.get("/support/export.csv", {"q": "x\x00y"}).status_code == 400


@pytest.mark.parametrize("text", ["'; DROP TABLE mpesa_payment; --", "%%%", "___", "ws_CO_' OR 1=1", "NX-<>", "+254"])
def test_odd_text_is_just_text(agent_client, shop, text):
    response = agent_client.get("/support/", {"q": text}, headers=HX)
    assert response.status_code == 200


def test_pages_go_back_in_time(agent_client, shop, settings, monkeypatch):
    monkeypatch.setattr("support.selectors.search.PAGE_SIZE", 2)
    first = agent_client.get("/support/").context["results"]
    second = agent_client.get("/support/", {"page": 2}).context["results"]
    assert first.has_next and not second.has_next and second.has_previous
    assert [p.pk for p in first.rows + second.rows] == [shop["third"].pk, shop["second"].pk, shop["first"].pk]


def test_the_next_page_and_the_export_keep_every_filter(agent_client, shop, monkeypatch):
    monkeypatch.setattr("support.selectors.search.PAGE_SIZE", 1)
    today = timezone.localdate().isoformat()
    response = agent_client.get("/support/", {"date_from": today, "amount_min": "1", "amount_max": "9999999"})
    assert [p.pk for p in response.context["results"].rows] == [shop["third"].pk]
    query = f"date_from={today}&amp;amount_min=1&amp;amount_max=9999999"
    assert f'href="/support/export.csv?{query}"'.encode() in response.content
    assert f'href="?{query}&amp;page=2"'.encode() in response.content
    older = agent_client.get("/support/", {"date_from": today, "amount_min": "1", "amount_max": "9999999", "page": 2})
    assert [p.pk for p in older.context["results"].rows] == [shop["second"].pk]  # not the first: three days old
    assert not older.context["results"].has_next


def test_todays_figures(agent_client, shop):
    today = agent_client.get("/support/").context["today"]
    assert (today.started, today.failed, today.pending, today.succeeded) == (2, 1, 1, 0)
    assert (today.unknown, today.collected_kes, today.refunded_kes) == (0, 0, 0)


@pytest.mark.postgres
def test_todays_figures_are_planned_once_not_on_every_console_page(agent_client, shop):
    """The figures' statement carries no parameter: PostgreSQL plans it once and keeps the plan, where a parameter
    made it plan the statement anew on every page (support/selectors/search.py)."""
    for _ in range(7):
        assert agent_client.get("/support/").context["today"].started == 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        figures = [(generic, custom) for statement, generic, custom in cursor.fetchall() if "COUNT(*)" in statement]
    assert len(figures) == 1
    generic, custom = figures[0]
    assert generic >= 7 and custom == 0  # the connection may have run it before this test too


def _forget_prepared_statements() -> None:
    """The connection's prepared statements forgotten, so that PostgreSQL's counts of plans are this test's own: the
    suite's connection may have run a statement before, on other data, which can leave it on custom plans."""
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    raw.prepared_statements.clear()
    raw.prepared_calls.clear()


@pytest.mark.postgres
def test_the_results_are_read_by_one_statement_planned_once_and_the_search_planned_for_its_text(agent_client, shop):
    """A page's rows (with their booking, booker and listing) are read by the same statement whatever was searched
    for and however many were found: PostgreSQL plans it once and keeps the plan. The search that picks them is
    planned for the text searched for, never kept as a statement prepared on the connection, whose one plan for
    every text read every payment to find a receipt (support/selectors/search.py)."""
    _forget_prepared_statements()
    for text in ["wanjiku", "UKK4H7TQ2M", "0712 345 678", "example.org", "", "lamu", "wanjiku"]:
        assert agent_client.get("/support/", {"q": text}).context["results"].rows
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        prepared = cursor.fetchall()
    page_rows = f"WHERE p.id IN ({', '.join(f'${n}' for n in range(1, PAGE_SIZE + 1))})"  # as prepared
    rows = [(generic, custom) for statement, generic, custom in prepared if page_rows in statement]
    assert len(rows) == 1
    generic, custom = rows[0]
    assert generic >= 2 and custom <= 5  # PostgreSQL's five custom plans first
    assert not [statement for statement, _, _ in prepared if "ORDER BY created_at DESC, id DESC LIMIT" in statement]


def test_todays_money_counts_todays_successes_and_refunds_settled_today(agent_client, agent, shop):
    now = timezone.now()
    Payment.objects.filter(pk=shop["third"].pk).update(status=Payment.Status.SUCCEEDED, receipt="UKK4H7TQ3N")
    Payment.objects.filter(pk=shop["second"].pk).update(status=Payment.Status.UNKNOWN)
    first = shop["first"]  # paid three days ago: its refund settled today still counts today
    for amount, settled_at, status in [
        (700, now, Refund.Status.SUCCEEDED),
        (300, now - datetime.timedelta(days=2), Refund.Status.SUCCEEDED),
        (900, now, Refund.Status.FAILED),
    ]:
        Refund.objects.create(
            payment=first,
            booking=first.booking,
            amount_kes=amount,
            status=status,
            reason="Test",
            requested_by=agent,
            result_token=f"token-{amount}",
            settled_at=settled_at,
        )
    today = agent_client.get("/support/").context["today"]
    assert (today.started, today.succeeded, today.failed, today.pending, today.unknown) == (2, 1, 0, 0, 1)
    assert (today.collected_kes, today.refunded_kes) == (4_500, 700)


def _many(make_user, host, hold, pending_payment, count):
    for _ in range(count):
        n = next(_numbers)
        user = make_user(email=f"kamau{n}@example.com", full_name=f"Guest Kamau {n}")
        booking = hold(user, 3, 5, listing_obj=make_listing(host))
        pending_payment(booking=booking, phone="254712345678")


@pytest.mark.parametrize("query", [{}, {"q": "0712345678"}, {"q": "Kamau"}, {"status": "pending"}])
def test_the_search_page_costs_the_same_queries_for_any_number_of_payments(
    agent_client, make_user, host, hold, pending_payment, django_assert_num_queries, query
):
    _many(make_user, host, hold, pending_payment, 2)
    with CaptureQueriesContext(connection) as few:
        assert agent_client.get("/support/", query).status_code == 200
    expected = len(few)  # the log is cleared by every later request
    _many(make_user, host, hold, pending_payment, 12)
    with django_assert_num_queries(expected):
        response = agent_client.get("/support/", query)
    assert len(response.context["results"].rows) >= 12
    with CaptureQueriesContext(connection) as fragment:
        agent_client.get("/support/", query, headers=HX)
    assert len(fragment) < expected


def test_a_bookers_payments_are_found_from_indexes():
    """A renamed booker's bookings and their payments, whose search text is rewritten, are read from these indexes
    alone (on SQLite too)."""
    with connection.cursor() as cursor:
        bookings = connection.introspection.get_constraints(cursor, "reservations_booking")
        payments = connection.introspection.get_constraints(cursor, "mpesa_payment")
    assert bookings["support_booking_booker_id"]["columns"] == ["booker_id", "id"]
    assert payments["payment_booking_created"]["columns"] == ["booking_id", "created_at", "id"]


def test_the_search_form_shows_what_was_typed_and_marks_what_was_refused(agent_client, shop):
    typed = {"q": '<b>"Wanjiku"</b>', "status": "failed", "date_from": "2026-11-01", "amount_max": "500"}
    html = agent_client.get("/support/", typed).content.decode()
    assert 'value="&lt;b&gt;&quot;Wanjiku&quot;&lt;/b&gt;"' in html and "<b>" not in html.split("<main")[-1]
    assert '<option value="failed" selected>' in html and html.count(" selected>") == 1
    assert 'name="date_from" id="id_date_from" value="2026-11-01"' in html
    assert 'name="amount_max" id="id_amount_max" value="500"' in html
    assert 'aria-invalid="true"' not in html and "{#" not in html and "widget templates" not in html
    refused = agent_client.get("/support/", {"amount_min": "-3", "date_to": "yesterday"})
    html = refused.content.decode()
    assert refused.status_code == 422
    for name in ("amount_min", "date_to"):
        field = re.search(rf'<input type="[a-z]+" name="{name}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in field
    assert 'value="yesterday"' in html and 'value="-3"' in html


def test_the_page_finds_what_the_export_finds_for_every_kind_of_search(shop, monkeypatch):
    """The page's search is written out as SQL; the export's is the ORM's payment_search. Over a grid of searches,
    filters and pages both list the same payments in the same order."""
    from support.selectors import SearchFilters, payment_search, payment_search_page

    Payment.objects.filter(pk=shop["second"].pk).update(receipt="UKPVCEVXHY", guest_code="UKL9Z8Y7X6")
    today = timezone.localdate()
    texts = [
        "",
        "UKK4H7TQ2M",
        "ukpvcevxhy",
        "UKL9Z8Y7X6",
        shop["second"].checkout_request_id,
        "0712 345 678",
        "+254 722 000 111",
        "+44 20 7946 0958",
        shop["b"].ref.lower().replace("-", ""),
        "wanjiku",
        "Akinyi",
        "example.org",
        "ROOFTOP",
        "%%%",
        "___",
        "a\\b",
        "Zoë",
    ]
    filters = [
        {},
        {"status": "failed"},
        {"status": "pending"},
        {"date_from": today},
        {"date_to": today - datetime.timedelta(days=1)},
        {"date_from": today - datetime.timedelta(days=3), "date_to": today},
        {"amount_min": 4_500},
        {"amount_max": 4_500},
        {"amount_min": 1, "amount_max": 4_500, "date_from": today},
    ]
    monkeypatch.setattr("support.selectors.search.PAGE_SIZE", 1)
    for text in texts:
        for extra in filters:
            search = SearchFilters(q=text, **extra)
            expected = list(payment_search(filters=search).values_list("pk", flat=True))
            for page in (1, 2, 3):
                found = payment_search_page(filters=search, page=page)
                assert [row.pk for row in found.rows] == expected[page - 1 : page], (text, extra, page)
                assert found.has_next == (len(expected) > page), (text, extra, page)
