"""The search form's fields are written in Python: their markup must be exactly what Django's templates write."""

import datetime

import pytest
from django import forms

from mpesa.support_forms import SearchForm

DJANGO_WIDGETS = (forms.Select, forms.DateInput, forms.NumberInput, forms.TextInput)


def with_djangos_templates(form: SearchForm) -> SearchForm:
    """The same form whose widgets render through Django's own templates."""
    for field in form.fields.values():
        widget = field.widget
        base = next((cls for cls in DJANGO_WIDGETS if isinstance(widget, cls)), None)
        if base is not None:
            widget.render = base.render.__get__(widget)
    return form


@pytest.mark.parametrize(
    "data",
    [
        None,  # the page as first opened
        {"q": 'Wanjiku <Kamau> & "sons"', "status": "failed", "date_from": "2026-11-01", "min": "", "max": "500"},
        {"q": "ab", "status": "nonsense", "date_from": "yesterday", "date_to": "2026-11-02", "amount_min": "-3"},
        {"date_from": "2026-11-05", "date_to": "2026-11-01", "amount_min": "900", "amount_max": "100"},
    ],
)
def test_the_fields_are_written_as_djangos_templates_write_them(data):
    ours = SearchForm(data) if data is not None else SearchForm(initial={"date_from": datetime.date(2026, 11, 1)})
    theirs = with_djangos_templates(
        SearchForm(data) if data is not None else SearchForm(initial={"date_from": datetime.date(2026, 11, 1)})
    )
    if data is not None:
        ours.is_valid(), theirs.is_valid()
    for name in ["q", "status", "date_from", "date_to", "amount_min", "amount_max"]:
        assert str(ours[name]) == str(theirs[name]), name
    if data and data.get("status") == "failed":
        assert 'value="failed" selected' in str(ours["status"])
        assert "&lt;Kamau&gt; &amp; &quot;sons&quot;" in str(ours["q"])
