"""Forms whose fields are copied one by one (core.forms.fields_copied_shallow): each form still has fields of
its own, and what one form was sent never shows in another."""

import datetime
import random
import types

import pytest
from django import forms
from django.http import QueryDict
from django.utils import timezone

from core.forms import QueryStringForm
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


# Forms of a query (core.forms.QueryStringForm): cleaned without a BoundField a field, and what was sent read back
# by sent(name); both must give what Django's own way gives.


class _Sample(QueryStringForm):
    """A field of each kind Django cleans in a way of its own: disabled (its initial value), a file, a hook."""

    name = forms.CharField(required=False, max_length=5)
    fixed = forms.CharField(required=False, disabled=True, initial="kept")
    upload = forms.FileField(required=False)
    count = forms.IntegerField(required=False, min_value=1, max_value=3)

    def clean_name(self) -> str:
        if self.cleaned_data["name"] == "bad":
            raise forms.ValidationError("Not that name.")
        return self.cleaned_data["name"].upper()


def _as_django_cleans(form_class: type[forms.Form], query: QueryDict) -> forms.Form:
    """The same form as Django's own way makes it: reading the QueryDict itself, its fields cleaned by
    Form._clean_fields (a BoundField each)."""
    form = form_class(query)
    form.data = query
    form._clean_fields = types.MethodType(forms.Form._clean_fields, form)
    return form


def _queries(choices: dict[str, list[str | None]], count: int) -> list[QueryDict]:
    """`count` queries made of the choices (None: the name is not sent; a list: sent several times), the same every
    run, the first ones each choice alone."""
    pick = random.Random(21)
    queries = []
    for name, values in choices.items():
        for value in values:
            queries.append({name: value})
    while len(queries) < count:
        queries.append({name: pick.choice(values) for name, values in choices.items()})
    made = []
    for sent in queries:
        query = QueryDict(mutable=True)
        for name, value in sent.items():
            if value is None:
                continue
            query.setlist(name, value if isinstance(value, list) else [value])
        made.append(query)
    return made


def _days(*offsets: int) -> list[str]:
    today = timezone.localdate()
    return [(today + datetime.timedelta(days=offset)).isoformat() for offset in offsets]


DATES = [None, "", " ", "someday", "2026-02-30", "2026-2-3", " 2027-01-05 ", *_days(-1, 0, 3, 10, 800)]
WHOLE = [None, "", "0", "1", "2", " 3 ", "2.0", "30", "31", "-1", "x", "99999999999999999999"]

QUERY_FORMS = [
    (
        SearchForm,
        {
            "where": [None, "", "  Diani ", "x" * 101, "Kwale"],
            "check_in": DATES,
            "check_out": DATES,
            "guests": WHOLE,
            "property_type": [None, "", "villa", "castle", ["villa", "cottage"]],
            "min_price": [None, "", "0", "5000", "-5", "abc"],
            "max_price": [None, "", "1000", "20000", "10000001"],
            "amenities": [None, [], ["wifi"], ["wifi", "pool"], ["teleporter"]],
            "sort": [None, "", "price", "-price", "cheapest"],
        },
    ),
    (StayForm, {"check_in": DATES, "check_out": DATES, "guests": WHOLE}),
    (
        ConsoleSearchForm,
        {
            "q": [None, "", "ab", "wanjiku", "0712 345 678", "NX-ABC123", "  many   spaces  "],
            "status": [None, "", "failed", "nonsense"],
            "date_from": DATES,
            "date_to": DATES,
            "amount_min": WHOLE,
            "amount_max": WHOLE,
            "page": [None, "", "1", "0", "10001", "two"],
        },
    ),
    (
        _Sample,
        {
            "name": [None, "", "bad", "ok", "toolong"],
            "fixed": [None, "sent", ""],
            "upload": [None, "not a file"],
            "count": [None, "", "1", "4", "x"],
        },
    ),
]


@pytest.mark.parametrize(("form_class", "choices"), QUERY_FORMS, ids=["search", "stay", "console search", "sample"])
def test_a_query_form_cleans_and_shows_back_what_djangos_own_way_does(form_class, choices):
    for query in _queries(choices, count=400):
        ours, djangos = form_class(query), _as_django_cleans(form_class, query)
        assert ours.errors.get_json_data() == djangos.errors.get_json_data(), query
        assert ours.cleaned_data == djangos.cleaned_data, query
        for name in form_class.base_fields:
            assert ours.sent(name) == djangos[name].value(), (query, name)
    unbound = form_class()
    assert {name: unbound.sent(name) for name in form_class.base_fields} == {
        name: unbound[name].value() for name in form_class.base_fields
    }


def test_a_query_form_keeps_djangos_way_for_a_disabled_field_a_file_and_a_hook():
    form = _Sample(QueryDict("name=ok&fixed=sent&count=2"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"name": "OK", "fixed": "kept", "upload": None, "count": 2}
    assert form.sent("fixed") == "kept"
    refused = _Sample(QueryDict("name=bad&count=4"))
    assert refused.errors == {"name": ["Not that name."], "count": ["Ensure this value is less than or equal to 3."]}
