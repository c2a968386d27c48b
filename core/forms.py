from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _

from core.models import User
from core.phone import format_phone, is_probably_safaricom, normalise_mobile, normalise_phone

PHONE_HELP = _("Optional. The number M-Pesa prompts for payment, e.g. 0712 345 678.")


class FieldsCopiedShallow(dict):
    """A form class's fields that each form copies one by one (shallow copies) instead of deeply, for forms built on
    every request of a hot page whose fields no form changes in place (their widgets and choices are shared).

    Django deep-copies a form's fields for each form: for the search form that was 130 us of the 230 us it takes
    to build and check one, on every search (bench/demo_pages.py, "search, dated")."""

    def __deepcopy__(self, memo):
        return {name: _shallow_copy(field) for name, field in self.items()}


def _shallow_copy(field: forms.Field) -> forms.Field:
    """copy.copy(field) without copy's protocol lookups (a third of its cost: 9 fields a search form)."""
    duplicate = object.__new__(type(field))
    duplicate.__dict__.update(field.__dict__)
    return duplicate


def fields_copied_shallow(form_class: type[forms.BaseForm]) -> type[forms.BaseForm]:
    """Class decorator: the form's fields are FieldsCopiedShallow."""
    form_class.base_fields = FieldsCopiedShallow(form_class.base_fields)
    return form_class


class _SentValues(MultiValueDict):
    """A query's values, read as a QueryDict reads them, where a name not sent costs a dictionary look-up: a
    QueryDict raises and catches two exceptions for it (1 us, on most of a search form's nine fields): dated search
    7.14 -> 7.10 M instructions (bench/instructions.py)."""

    def get(self, key, default=None):
        values = dict.get(self, key)
        return values[-1] if values else default


class QueryStringForm(forms.Form):
    """Django's form for a query a hot page reads on every request (the search, the property page, the console
    search), its fields read without a BoundField each: cleaned as Django's own `_clean_fields` cleans them, and
    what was sent for a field, for the page to show back, read by `sent(name)`, which gives what
    `form[name].value()` gives.

    Why: Django makes a BoundField for every field a form cleans and every value a page shows back. The dated
    search's form cost 0.81 M of the page's 7.35 M instructions (bench/instructions.py), the property page's 0.24 M
    of 5.69 M; built and checked in a loop, the search form took 173 us and now 90, the stay form 77 and now 43, and
    the pages count 7.35 -> 7.14 M and 5.69 -> 5.61 M (bench/demo_pages.py prints their ratios to /healthz).
    tests/core/test_forms.py compares the two ways over a grid of queries."""

    def __init__(self, data=None, *args, **kwargs):
        if type(data) is QueryDict:
            data = _SentValues(data.lists())
        super().__init__(data, *args, **kwargs)

    def _clean_fields(self):
        for name, field in self.fields.items():
            try:
                if field.disabled or type(field)._clean_bound_field is not forms.Field._clean_bound_field:
                    value = field._clean_bound_field(self[name])  # an initial value or a file: Django's own way
                else:
                    value = field.clean(field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name)))
                self.cleaned_data[name] = value
                hook = getattr(self, f"clean_{name}", None)
                if hook is not None:
                    self.cleaned_data[name] = hook()
            except ValidationError as error:
                self.add_error(name, error)

    def sent(self, name: str):
        """What `self[name].value()` gives, without making the BoundField where the field shows what was sent."""
        field = self.fields[name]
        if not self.is_bound or field.disabled or type(field).bound_data is not forms.Field.bound_data:
            return self[name].value()
        return field.prepare_value(field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name)))


class MpesaPhoneField(forms.CharField):
    """A Kenyan mobile number, cleaned to 2547XXXXXXXX / 2541XXXXXXXX."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("help_text", PHONE_HELP)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "tel")
        self.widget.attrs.setdefault("autocomplete", "tel")

    def prepare_value(self, value):
        """A stored number shows the Kenyan way (0712 345 678); what a person typed shows as they typed it."""
        return format_phone(value) if isinstance(value, str) else value

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return ""
        return normalise_phone(value)


MOBILE_HELP = _("A Kenyan number, e.g. 0712 345 678, or another country's with its code, e.g. +44 7700 900123.")


class MobileField(forms.CharField):
    """A mobile number to sign in with, cleaned to E.164 by core.phone.normalise_mobile (allauth's phone field)."""

    def __init__(self, **kwargs):
        kwargs["label"] = _("Mobile number")
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("help_text", MOBILE_HELP)
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return ""
        return normalise_mobile(value)


class SignupDetailsForm(forms.Form):
    """The field allauth's sign-up form gains: a name (the mobile number and the optional e-mail are allauth's)."""

    full_name = forms.CharField(label=_("Full name"), max_length=150)

    field_order = ["full_name", "phone", "email", "password1", "password2"]

    def clean_full_name(self) -> str:
        name = " ".join(self.cleaned_data["full_name"].split())
        if not name:
            raise forms.ValidationError(_("Enter your name."))
        return name

    def signup(self, request, user: User) -> None:
        user.full_name = self.cleaned_data["full_name"]
        user.save(update_fields=["full_name"])


class ProfileForm(forms.ModelForm):
    mpesa_phone = MpesaPhoneField(label=_("M-Pesa phone number"), required=False)

    class Meta:
        model = User
        fields = ["full_name", "mpesa_phone"]

    def clean_full_name(self) -> str:
        name = " ".join(self.cleaned_data["full_name"].split())
        if not name:
            raise forms.ValidationError(_("Enter your name."))
        return name

    @property
    def phone_hint(self) -> str:
        """A gentle note when the number is outside Safaricom's known ranges (numbers are portable: not an error)."""
        data = getattr(self, "cleaned_data", None)
        phone = data.get("mpesa_phone", "") if data is not None else self.instance.mpesa_phone
        if phone and not is_probably_safaricom(phone):
            return str(_("This number is not in a Safaricom range. M-Pesa prompts reach only M-Pesa numbers."))
        return ""
