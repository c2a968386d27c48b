from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout
from django import forms
from django.utils.translation import gettext_lazy as _

from core.phone import normalise_phone
from listings.models import Amenity, Listing
from listings.payment_guard import GUARDED_LISTING_FIELDS, validate_no_off_platform_payment
from listings.photos import ALLOWED_FORMATS, DISPLAY_EDGE_PX
from listings.services import LISTING_EDITABLE_FIELDS

# ---------------------------------------------------------------------------------------------------------------
# Host side.


class ListingForm(forms.ModelForm):
    """A host's listing: everything but publishing, photos and the calendar, which have their own controls."""

    amenities = forms.ModelMultipleChoiceField(
        queryset=Amenity.objects.all(),
        # Codes, not ids: a checkbox's value never reaches the database as a number a client made up.
        to_field_name="code",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Amenities"),
    )

    class Meta:
        model = Listing
        fields = [*LISTING_EDITABLE_FIELDS, "amenities"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 5}),
            "house_rules": forms.Textarea(attrs={"rows": 3}),
            "directions": forms.Textarea(attrs={"rows": 3}),
            "check_in_instructions": forms.Textarea(attrs={"rows": 3}),
            "check_in_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "check_out_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        help_texts = {
            "host_phone": _("Shown only to guests with a confirmed booking, e.g. 0712 345 678."),
            "max_guests": _("The most people who can stay, children included."),
            "street_address": _("Shown only to guests with a confirmed booking."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("nightly_price_kes", "cleaning_fee_kes", "max_guests"):
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "min": 0})
        self.fields["max_guests"].required = False
        self.fields["nightly_price_kes"].required = False
        self.fields["host_phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "tel"})
        # Public text: no phone numbers or payment details (the private fields below are shown only after payment).
        for name in GUARDED_LISTING_FIELDS:
            self.fields[name].validators.append(validate_no_off_platform_payment)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the page's own <form> carries the token
        self.helper.layout = Layout(
            Fieldset(_("The place"), "title", "property_type", "county", "town", "description"),
            Fieldset(
                _("Guests and rooms"),
                Div("max_guests", "bedrooms", "beds", "bathrooms", css_class="grid grid-cols-2 gap-x-4"),
            ),
            Fieldset(
                _("Price"),
                Div(
                    "nightly_price_kes",
                    "cleaning_fee_kes",
                    "weekly_discount_percent",
                    "monthly_discount_percent",
                    css_class="grid grid-cols-1 gap-x-4 sm:grid-cols-2",
                ),
            ),
            Fieldset(
                _("Stay rules"),
                Div(
                    "min_nights",
                    "max_nights",
                    "advance_notice_days",
                    "same_day_cutoff_hour",
                    "check_in_time",
                    "check_out_time",
                    css_class="grid grid-cols-1 gap-x-4 sm:grid-cols-2",
                ),
                "cancellation_policy",
                "house_rules",
            ),
            Fieldset(_("Amenities"), "amenities"),
            Fieldset(
                _("Private details, for confirmed guests only"),
                "street_address",
                "directions",
                "check_in_instructions",
                "host_phone",
            ),
        )

    def clean_title(self) -> str:
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise forms.ValidationError(_("Give the listing a title."))
        return title

    def clean_town(self) -> str:
        town = " ".join(self.cleaned_data["town"].split())
        if not town:
            raise forms.ValidationError(_("Name the town or area."))
        return town

    def clean_host_phone(self) -> str:
        value = self.cleaned_data["host_phone"].strip()
        return normalise_phone(value) if value else ""

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_nights"), cleaned.get("max_nights")
        if low is not None and high is not None and high < low:
            self.add_error("max_nights", _("The maximum stay must be at least the minimum stay."))
        return cleaned

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in LISTING_EDITABLE_FIELDS}


class PhotoUploadForm(forms.Form):
    image = forms.FileField(
        label=_("Add a photo"),
        help_text=_("JPEG, PNG or WebP, up to 12 MB. Location data is removed."),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ",".join(f"image/{fmt.lower()}" for fmt in ALLOWED_FORMATS),
                "class": "block w-full min-w-0 max-w-full text-sm",
                # static/js/photo-upload.js shrinks a larger photo to this edge before sending it.
                "data-resize-edge": DISPLAY_EDGE_PX,
            }
        ),
    )
    caption = forms.CharField(
        label=_("Caption"), max_length=140, required=False, validators=[validate_no_off_platform_payment]
    )


class PhotoCaptionForm(forms.Form):
    caption = forms.CharField(
        label=_("Caption"), max_length=140, required=False, validators=[validate_no_off_platform_payment]
    )


class PhotoIdsField(forms.Field):
    """A list of photo ids (the same name repeated), kept in the order sent."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("The new photo order was empty. Reload the page and try again."),
        "invalid": _("The new photo order could not be read. Reload the page and try again."),
    }

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        if not isinstance(value, list | tuple):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        ids = []
        for item in value:
            # ASCII digits only: int() would also take " 7", "+7" and other scripts' digits.
            if not (isinstance(item, str) and item.isascii() and item.isdecimal() and 0 < len(item) <= 18):
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            ids.append(int(item))
        return ids


class PhotoOrderForm(forms.Form):
    """The listing's photo ids in their new order, as the photo list sends them after a drag."""

    photo = PhotoIdsField()


class CalendarEditForm(forms.Form):
    """Nights chosen on the host's calendar and what to do with them."""

    ACTIONS = [
        ("block", _("Block")),
        ("unblock", _("Unblock")),
        ("set-price", _("Set price")),
        ("reset-price", _("Use default price")),
        ("set-min-nights", _("Set minimum stay")),
        ("reset-min-nights", _("Use default minimum")),
    ]

    first_night = forms.DateField(label=_("First night"), widget=forms.DateInput(attrs={"type": "date"}))
    last_night = forms.DateField(label=_("Last night"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    action = forms.ChoiceField(choices=ACTIONS)
    note = forms.CharField(label=_("Note (only you see it)"), max_length=140, required=False)
    price_kes = forms.IntegerField(
        label=_("Price per night (KES)"),
        min_value=1,
        max_value=10_000_000,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    min_nights = forms.IntegerField(
        label=_("Minimum nights"),
        min_value=1,
        max_value=365,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("first_night"), cleaned.get("last_night")
        if first and not last and "last_night" not in self.errors:
            cleaned["last_night"] = last = first
        if first and last and last < first:
            self.add_error("last_night", _("The last night is before the first night."))
        action = cleaned.get("action")
        if action == "set-price" and cleaned.get("price_kes") is None and "price_kes" not in self.errors:
            self.add_error("price_kes", _("Enter the price for these nights."))
        if action == "set-min-nights" and cleaned.get("min_nights") is None and "min_nights" not in self.errors:
            self.add_error("min_nights", _("Enter the minimum number of nights."))
        return cleaned
