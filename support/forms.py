"""Input shapes for the support console. Rules that read other rows live in support.services."""

import datetime
import functools
import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.forms import QueryStringForm, fields_copied_shallow
from core.phone import normalise_phone
from mpesa.models import Payment, Refund
from support.selectors import SearchFilters, looks_like_phone

INPUT = "w-full min-w-0 rounded-md border border-slate-300 px-3 py-2 text-sm"
# The days a search may name (templates/jinja2/support/_search_form.html gives the date inputs the same bounds). Far
# dates would overflow the date arithmetic of the search; no payment is older than the first or newer than the last.
EARLIEST_DAY = datetime.date(2000, 1, 1)
LATEST_DAY = datetime.date(2099, 12, 31)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise forms.ValidationError(_("Remove the unusual characters and try again."))
    return value


@functools.cache
def _search_words(language: str | None) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The search form's labels and status choices in `language`, translated once per language rather than on
    every console page (16 translations a page: bench/support_search.py --profile "name fragment")."""
    fields = SearchForm.base_fields
    labels = {name: str(field.label) for name, field in fields.items()}
    return labels, [(value, str(label)) for value, label in fields["status"].choices]


@fields_copied_shallow
class SearchForm(QueryStringForm):
    """The console search. templates/jinja2/support/_search_form.html writes its fields out; the names here are
    theirs."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Payment.Status.choices]
    )
    date_from = forms.DateField(label=_("From"), required=False)
    date_to = forms.DateField(label=_("To"), required=False)
    amount_min = forms.IntegerField(label=_("Min KES"), required=False, min_value=0, max_value=10_000_000)
    amount_max = forms.IntegerField(label=_("Max KES"), required=False, min_value=0, max_value=10_000_000)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000, widget=forms.HiddenInput)

    def clean_q(self) -> str:
        q = " ".join(_no_nul(self.cleaned_data["q"]).split())
        if 0 < len(q) < 3:
            # Fewer letters than a trigram would make PostgreSQL read every name.
            raise forms.ValidationError(_("Type at least 3 characters of a name, or a receipt, phone or reference."))
        if looks_like_phone(q):
            try:
                normalise_phone(q)
            except ValidationError:
                raise forms.ValidationError(
                    _(
                        "This looks like a phone number but is not a Kenyan mobile number: type it as 0712 345 678 or "
                        "+254 712 345 678."
                    )
                ) from None
        return q

    def _clean_day(self, name: str) -> datetime.date | None:
        day = self.cleaned_data[name]
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            raise forms.ValidationError(
                _("Choose a day between {first} and {last}.").format(
                    first=EARLIEST_DAY.isoformat(), last=LATEST_DAY.isoformat()
                )
            )
        return day

    def clean_date_from(self) -> datetime.date | None:
        return self._clean_day("date_from")

    def clean_date_to(self) -> datetime.date | None:
        return self._clean_day("date_to")

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        low, high = data.get("amount_min"), data.get("amount_max")
        if low is not None and high is not None and low > high:
            self.add_error("amount_max", _("The maximum is below the minimum."))
        return data

    def shown(self) -> dict[str, dict]:
        """What templates/jinja2/support/_search_form.html prints of each field, as plain values: its label, the text
        sent (escaped as Django's templates escape it), whether it was refused, and the status choices with the one
        chosen marked."""
        errors = self.errors
        labels, statuses = _search_words(get_language())
        shown = {
            name: {"label": labels[name], "value": escape(self.data.get(name) or ""), "invalid": name in errors}
            for name in self.fields
        }
        chosen = self.data.get("status")
        shown["status"]["choices"] = [(value, label, value == chosen) for value, label in statuses]
        return shown

    def query_params(self) -> dict[str, str]:
        """The filters given, under this form's own names: what the links to other pages and to the export carry."""
        data = self.cleaned_data
        return {name: str(data[name]) for name in self.fields if name != "page" and data.get(name) not in (None, "")}

    def filters(self) -> SearchFilters:
        data = self.cleaned_data
        return SearchFilters(
            q=data.get("q") or "",
            status=data.get("status") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            amount_min=data.get("amount_min"),
            amount_max=data.get("amount_max"),
        )


def new_key() -> str:
    return uuid.uuid4().hex


class ActionForm(forms.Form):
    """Every console action: a reason and the form's one-time key."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.TextInput(attrs={"class": INPUT, "placeholder": "Why (kept in the audit trail)"}),
    )
    key = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("key", new_key())
        super().__init__(*args, **kwargs)

    def clean_reason(self) -> str:
        return _no_nul(self.cleaned_data["reason"])


class QueryForm(ActionForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "query-%s")  # two action forms share a page: their ids must differ
        super().__init__(*args, **kwargs)

    kind = forms.ChoiceField(
        choices=[("stk", _("STK Query")), ("status", _("Transaction Status by receipt"))],
        widget=forms.RadioSelect,
        initial="stk",
    )
    receipt = forms.CharField(
        label=_("Receipt number"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"class": INPUT, "autocomplete": "off"}),
    )

    def clean_receipt(self) -> str:
        return _no_nul(self.cleaned_data["receipt"]).strip().upper()

    def clean(self):
        data = super().clean()
        if data.get("kind") == "status" and not data.get("receipt"):
            self.add_error("receipt", _("Enter the receipt number to ask about."))
        return data


class RefundForm(ActionForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "refund-%s")
        super().__init__(*args, **kwargs)

    amount_kes = forms.IntegerField(
        label=_("Amount (KES)"),
        min_value=1,
        max_value=10_000_000,
        widget=forms.NumberInput(attrs={"class": INPUT, "inputmode": "numeric"}),
    )
    method = forms.ChoiceField(
        label=_("How"), choices=Refund.Method.choices, initial=Refund.Method.REVERSAL, widget=forms.RadioSelect
    )
    manual_reference = forms.CharField(
        label=_("Manual transfer reference"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"class": INPUT}),
    )

    def clean_manual_reference(self) -> str:
        return _no_nul(self.cleaned_data["manual_reference"])


class ResolveForm(ActionForm):
    kind = forms.CharField(max_length=30, widget=forms.HiddenInput)
    object_id = forms.IntegerField(min_value=1, max_value=2**62, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = _("Note")
        self.fields["reason"].widget.attrs["placeholder"] = "What was done"


class LinkForm(ActionForm):
    event_id = forms.IntegerField(min_value=1, max_value=2**62, widget=forms.HiddenInput)
    payment_id = forms.IntegerField(
        label=_("Payment number"),
        min_value=1,
        max_value=2**62,
        widget=forms.NumberInput(attrs={"class": INPUT, "inputmode": "numeric"}),
    )
