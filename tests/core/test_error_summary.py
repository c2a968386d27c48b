"""The error summary of a refused form: one list at the top, each problem linking to its field."""

from django import forms
from django.template import Context, Template


class StayForm(forms.Form):
    name = forms.CharField(label="Full name")
    phone = forms.CharField(label="Phone", required=False)

    def clean(self):
        if self.cleaned_data.get("name") == "Nobody":
            raise forms.ValidationError("Nobody cannot book.")
        return self.cleaned_data


Rows = forms.formset_factory(StayForm, extra=0)


def render(**context) -> str:
    return Template('{% error_summary form formset item="Guest" name="test" %}').render(Context(context))


def test_nothing_shows_for_an_unbound_or_valid_form():
    assert render(form=StayForm(), formset=None).strip() == ""
    assert render(form=StayForm(data={"name": "Achieng"}), formset=None).strip() == ""


def test_each_problem_links_to_its_field_and_formset_rows_are_named():
    rows = Rows(
        data={
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "0",
            "form-0-name": "A",
            "form-1-name": "",
            "form-1-phone": "0712",
        }
    )
    html = render(form=StayForm(data={"name": "Nobody"}), formset=rows)
    assert "data-error-summary" in html and 'tabindex="-1"' in html
    assert "There are 2 problems" in html
    assert "<li>Nobody cannot book.</li>" in html
    assert (
        '<a class="font-medium underline" href="#id_form-1-name">Guest 2: Full name: This field is required.</a>'
        in html
    )
