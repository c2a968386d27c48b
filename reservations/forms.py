"""What a guest types to book: the stay, the total they were shown, and one row per person.

Only input shape and checks within the booking live here; availability and price are the hold service's decision.
"""

import re

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.forms import MpesaPhoneField
from reservations.models import Booking, BookingGuest
from reservations.selectors import host_listing_choices
from reservations.services import GuestData

# No listing sleeps more (Listing.max_guests is at most 50): a hostile form count stops here.
ABSOLUTE_MAX_GUESTS = 50
GUESTS_PREFIX = "guests"
KEY_PATTERN = r"^[0-9a-f]{32}$"

FIELD_CLASSES = "w-full min-w-0 rounded-md border border-slate-300 bg-white px-3 py-2 text-sm"


def _clean_name(value: str) -> str:
    return " ".join(value.split())


class BookingForm(forms.Form):
    """The hidden part of the booking form: the total on screen and the submission's key.

    The stay itself travels in the page's query string, as on the property page.
    """

    shown_total_kes = forms.IntegerField(min_value=0, max_value=100_000_000, widget=forms.HiddenInput)
    # A uuid made when the page was shown: a double click or a resubmitted page sends the same one.
    idempotency_key = forms.CharField(max_length=64, validators=[RegexValidator(KEY_PATTERN)], widget=forms.HiddenInput)

    @staticmethod
    def key_is_valid(key: str) -> bool:
        return bool(re.fullmatch(KEY_PATTERN, key or ""))

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            # Only a tampered or stale page gets here: the fields are hidden.
            raise forms.ValidationError(_("This page is out of date. Check the details below and book again."))
        return cleaned


class GuestForm(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=150,
        error_messages={"required": _("Enter this guest's full name.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": FIELD_CLASSES}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        max_length=254,
        help_text=_("Optional, to share the trip with them: they see it when they sign in with this address."),
        error_messages={"invalid": _("Enter a valid e-mail address, or leave it empty.")},
        widget=forms.EmailInput(attrs={"autocomplete": "off", "class": FIELD_CLASSES}),
    )
    phone = MpesaPhoneField(
        label=_("Phone"),
        required=False,
        help_text=_(
            "Optional, to share the trip with them, e.g. 0712 345 678. They see it when they sign in with this number."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": FIELD_CLASSES}),
    )
    age_group = forms.ChoiceField(
        label=_("Age"),
        help_text=_("Adult or child: your host sees it."),
        choices=BookingGuest.AgeGroup.choices,
        initial=BookingGuest.AgeGroup.ADULT,
        error_messages={"invalid_choice": _("Choose adult or child.")},
        widget=forms.Select(attrs={"class": FIELD_CLASSES}),
    )

    def clean_full_name(self) -> str:
        name = _clean_name(self.cleaned_data["full_name"])
        if not name:
            raise forms.ValidationError(_("Enter this guest's full name."))
        return name

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def guest_data(self) -> GuestData:
        data = self.cleaned_data
        return GuestData(
            full_name=data["full_name"], email=data["email"], phone=data["phone"], age_group=data["age_group"]
        )


class BaseGuestFormSet(forms.BaseFormSet):
    """One row per guest; the first row is the booker, whose e-mail is their account's."""

    def __init__(self, *args, max_guests: int, **kwargs):
        self.max_guests = max_guests
        super().__init__(*args, prefix=GUESTS_PREFIX, **kwargs)
        self.max_num = max_guests

    def _construct_form(self, i, **kwargs):
        # Every row is a guest: a blank row is an error, never silently skipped.
        kwargs["empty_permitted"] = False
        form = super()._construct_form(i, **kwargs)
        if i == 0:
            # The booker is always the first guest: their address comes from the account, not the page.
            form.fields["email"].disabled = True
            form.fields["email"].help_text = _("Your account's address.")
        return form

    def clean(self):
        if any(self.errors):
            return
        if self.total_form_count() > self.max_guests:
            raise forms.ValidationError(
                ngettext(
                    "This place sleeps at most %(count)d guest.",
                    "This place sleeps at most %(count)d guests.",
                    self.max_guests,
                )
                % {"count": self.max_guests}
            )
        seen: dict[str, int] = {}
        for index, form in enumerate(self.forms):
            email = form.cleaned_data.get("email", "")
            if not email:
                continue
            if email in seen:
                form.add_error(
                    "email",
                    _("Guest {number} already has this e-mail address. Each guest needs their own, or none.").format(
                        number=seen[email] + 1
                    ),
                )
            else:
                seen[email] = index
        if self.forms and not any(
            form.cleaned_data.get("age_group") == BookingGuest.AgeGroup.ADULT for form in self.forms
        ):
            raise forms.ValidationError(_("At least one guest must be an adult."))

    def guest_data(self) -> list[GuestData]:
        return [form.guest_data() for form in self.forms]


GuestFormSet = forms.formset_factory(
    GuestForm,
    formset=BaseGuestFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    max_num=ABSOLUTE_MAX_GUESTS,
    absolute_max=ABSOLUTE_MAX_GUESTS,
)


def posted_guest_rows(data, *, limit: int) -> list[dict[str, str]]:
    """The guest rows as typed (not validated), at most `limit` of them, for rebuilding the formset."""
    try:
        total = int(data.get(f"{GUESTS_PREFIX}-TOTAL_FORMS", "1"))
    except (TypeError, ValueError):
        total = 1
    total = max(1, min(total, limit))
    rows = []
    for index in range(total):
        rows.append({name: data.get(f"{GUESTS_PREFIX}-{index}-{name}", "") for name in GuestForm.base_fields})
    return rows


class TripCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you cancelling? (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "class": FIELD_CLASSES}),
    )


class HostCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Tell your guests why you are cancelling"),
        max_length=500,
        error_messages={"required": _("Tell the guests why you are cancelling.")},
        widget=forms.Textarea(attrs={"rows": 3, "class": FIELD_CLASSES}),
    )

    def clean_reason(self) -> str:
        reason = _clean_name(self.cleaned_data["reason"])
        if not reason:
            raise forms.ValidationError(_("Tell the guests why you are cancelling."))
        return reason


class HostBookingFilterForm(forms.Form):
    listing = forms.ChoiceField(label=_("Place"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Booking.Status.choices]
    )

    def __init__(self, *args, host, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["listing"].choices = [("", _("All your places")), *host_listing_choices(host=host)]
        for field in self.fields.values():
            field.widget.attrs["class"] = FIELD_CLASSES
