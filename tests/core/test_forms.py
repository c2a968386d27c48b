"""Forms whose fields are copied one by one (core.forms.fields_copied_shallow): each form still has fields of
its own, and what one form was sent never shows in another."""

import datetime

from django.http import QueryDict
from django.utils import timezone

from listings.guest_forms import SearchForm, StayForm
from support.forms import SearchForm as ConsoleSearchForm


def test_each_form_has_fields_of_its_own():
    first, second = SearchForm(), SearchForm()
    first.fields["where"].required = True
    assert second.fields["where"].required is False
    assert SearchForm.base_fields["where"].required is False
    assert first.fields["amenities"] is not second.fields["amenities"]


def test_forms_built_one_after_another_keep_their_own_data_and_errors():
    wrong = StayForm(QueryDict("check_in=someday&guests=0"))
    check_in = timezone.localdate() + datetime.timedelta(days=30)
    check_out = check_in + datetime.timedelta(days=3)
    right = StayForm(QueryDict(f"check_in={check_in}&check_out={check_out}&guests=2"))
    assert not wrong.is_valid() and set(wrong.errors) == {"check_in", "guests"}
    assert right.is_valid(), right.errors
    assert right.guests_or_default() == 2
    searched = SearchForm(QueryDict("where=Diani&amenities=wifi&sort=-price"))
    assert searched.is_valid(), searched.errors
    chosen = [value for value, _label, picked in searched.options["amenities"] if picked]
    assert chosen == ["wifi"]
    assert [value for value, _label, picked in SearchForm().options["amenities"] if picked] == []


def test_the_console_search_shows_what_each_search_sent():
    refused = ConsoleSearchForm(QueryDict("q=ab&status=failed&amount_min=5&amount_max=2"))
    assert not refused.is_valid() and set(refused.errors) == {"q", "amount_max"}
    shown = refused.shown()
    assert shown["q"] == {"label": "Search", "value": "ab", "invalid": True}
    assert [value for value, _label, chosen in shown["status"]["choices"] if chosen] == ["failed"]
    fresh = ConsoleSearchForm(QueryDict("q=wanjiku")).shown()
    assert fresh["q"] == {"label": "Search", "value": "wanjiku", "invalid": False}
    assert not fresh["amount_max"]["invalid"]
    assert [value for value, _label, chosen in fresh["status"]["choices"] if chosen] == []
