"""What guests type: the search form and the stay form on a property page. Only shapes and simple limits;
whether a stay can be booked is the quote's decision (listings.selectors.stay_quote)."""

import datetime
import functools
import re

from django import forms
from django.utils.functional import cached_property
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.clock import local_date
from core.forms import QueryStringForm, fields_copied_shallow
from listings.models import Amenity, PropertyType
from listings.selectors import SORT_ORDERS, SearchQuery, Stay

MAX_SEARCH_GUESTS = 30
MAX_STAY_GUESTS = 50
# Nothing is bookable further ahead than this; it also keeps date arithmetic far from the calendar's end.
BOOKING_HORIZON = datetime.timedelta(days=730)
MAX_PRICE_KES = 10_000_000

DATE_ERRORS = {"invalid": _("Enter a date as YYYY-MM-DD.")}
WHOLE_NUMBER = _("Enter a whole number.")


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class IsoDateField(forms.DateField):
    """A date typed as YYYY-MM-DD, read by date.fromisoformat where it has exactly that shape; any other text is
    left to DateField, which accepts or refuses it as before. strptime, which the field's input format runs, took
    6 us a date, two on every dated search and property page (bench/instructions.py: search 11.38 -> 11.30 M,
    property page 9.89 -> 9.82 M)."""

    def to_python(self, value):
        if isinstance(value, str) and _ISO_DATE.fullmatch(text := value.strip()):
            try:
                return datetime.date.fromisoformat(text)
            except ValueError:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        return super().to_python(value)


def _date_field(label: str) -> forms.DateField:
    return IsoDateField(
        label=label,
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages=DATE_ERRORS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class StayDatesMixin:
    """Check-in and check-out: both or neither, within the booking horizon."""

    require_future_check_in = True
    # A guest halfway through picking dates on the calendar has a check-in and no check-out yet.
    allow_one_date = False

    def _clean_stay_dates(self, cleaned: dict) -> None:
        check_in, check_out = cleaned.get("check_in"), cleaned.get("check_out")
        if self.has_error("check_in") or self.has_error("check_out"):
            return
        if self.allow_one_date and not (check_in and check_out):
            return
        if check_in and not check_out:
            self.add_error("check_out", _("Choose a check-out date too."))
            return
        if check_out and not check_in:
            self.add_error("check_in", _("Choose a check-in date too."))
            return
        if not check_in:
            return
        today = local_date()
        if self.require_future_check_in and check_in < today:
            self.add_error("check_in", _("Check-in can't be in the past."))
        elif self.require_future_check_in and check_out <= check_in:
            self.add_error("check_out", _("Check-out must be after check-in."))
        elif max(check_in, check_out) > today + BOOKING_HORIZON:
            self.add_error("check_out", _("Choose dates within the next two years."))

    def stay(self) -> Stay | None:
        check_in, check_out = self.cleaned_data.get("check_in"), self.cleaned_data.get("check_out")
        if check_in and check_out:
            return Stay(check_in=check_in, check_out=check_out)
        return None


SORT_LABELS = {
    "price": _("Lowest price"),
    "-price": _("Highest price"),
    "newest": _("Newest"),
    "rating": _("Highest rated"),
}
SORT_CHOICES = [(value, SORT_LABELS[value]) for value in SORT_ORDERS]


@functools.cache
def _translated_choices(language: str | None) -> dict[str, tuple[tuple[str, str], ...]]:
    """The search form's sort, type and amenity choices as (value, label) strings, in `language`."""
    fields = SearchForm.base_fields
    return {
        name: tuple((str(v), str(label)) for v, label in fields[name].choices)
        for name in ("sort", "property_type", "amenities")
    }


@fields_copied_shallow
class SearchForm(StayDatesMixin, QueryStringForm):
    where = forms.CharField(label=_("Where"), max_length=100, required=False)
    check_in = _date_field(_("Check-in"))
    check_out = _date_field(_("Check-out"))
    guests = forms.IntegerField(
        label=_("Guests"),
        required=False,
        min_value=1,
        max_value=MAX_SEARCH_GUESTS,
        error_messages={
            "invalid": WHOLE_NUMBER,
            "min_value": _("Choose at least 1 guest."),
            "max_value": _("Search for at most %(limit_value)s guests."),
        },
    )
    property_type = forms.ChoiceField(
        label=_("Type of place"), required=False, choices=[("", _("Any type")), *PropertyType.choices]
    )
    min_price = forms.IntegerField(
        label=_("Lowest price a night (KES)"),
        required=False,
        min_value=0,
        max_value=MAX_PRICE_KES,
        error_messages={"invalid": WHOLE_NUMBER},
    )
    max_price = forms.IntegerField(
        label=_("Highest price a night (KES)"),
        required=False,
        min_value=0,
        max_value=MAX_PRICE_KES,
        error_messages={"invalid": WHOLE_NUMBER},
    )
    amenities = forms.MultipleChoiceField(
        label=_("Amenities"), required=False, choices=Amenity.Code.choices, widget=forms.CheckboxSelectMultiple
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)

    def clean(self):
        cleaned = super().clean()
        self._clean_stay_dates(cleaned)
        low, high = cleaned.get("min_price"), cleaned.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", _("The highest price must be at least the lowest."))
        return cleaned

    @cached_property
    def options(self) -> dict[str, list[tuple[str, str, bool]]]:
        """The sort, type and amenity choices as (value, label, chosen), by field (choice_options)."""
        return {name: self.choice_options(name) for name in _translated_choices(get_language())}

    def choice_options(self, name: str) -> list[tuple[str, str, bool]]:
        """The sort, type or amenity choices as (value, label, chosen): rendering the 30 choices straight from the
        fields translated each label and read each field's value per choice; the labels are translated once per
        language (a third of a millisecond a search page in bench/search.py)."""
        value = self.sent(name)
        chosen = {str(v) for v in value} if isinstance(value, list | tuple) else {str(value or "")}
        return [(v, label, v in chosen) for v, label in _translated_choices(get_language())[name]]

    FILTERS = ("property_type", "min_price", "max_price", "amenities")

    def filters_data(self) -> tuple:
        """What the form was sent for its filters (type, price and amenities), every value of each: all that the
        filters' markup prints follows from it (listings/_search_filters.html is remembered by it)."""
        getlist = getattr(self.data, "getlist", None)
        if getlist is None:
            return (self.is_bound, *(repr(self.data.get(name)) for name in self.FILTERS))
        return (self.is_bound, *(tuple(getlist(name)) for name in self.FILTERS))

    def search_query(self) -> SearchQuery:
        data = self.cleaned_data
        return SearchQuery(
            where=data.get("where") or "",
            stay=self.stay(),
            guests=data.get("guests") or 1,
            property_type=data.get("property_type") or "",
            min_price_kes=data.get("min_price"),
            max_price_kes=data.get("max_price"),
            amenities=tuple(data.get("amenities") or ()),
            sort=data.get("sort") or "price",
        )


@fields_copied_shallow
class StayForm(StayDatesMixin, QueryStringForm):
    """The dates and guests on a property page. Past dates and reversed dates are left to the quote to explain."""

    require_future_check_in = False
    allow_one_date = True

    check_in = _date_field(_("Check-in"))
    check_out = _date_field(_("Check-out"))
    guests = forms.IntegerField(
        label=_("Guests"),
        required=False,
        min_value=1,
        max_value=MAX_STAY_GUESTS,
        error_messages={
            "invalid": WHOLE_NUMBER,
            "min_value": _("Choose at least 1 guest."),
            "max_value": _("Choose at most %(limit_value)s guests."),
        },
    )

    def clean(self):
        cleaned = super().clean()
        self._clean_stay_dates(cleaned)
        return cleaned

    def guests_or_default(self) -> int:
        return self.cleaned_data.get("guests") or 1
