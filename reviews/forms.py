from django import forms
from django.utils.translation import gettext_lazy as _

from listings.payment_guard import validate_no_off_platform_payment
from reviews.models import SUB_RATINGS
from reviews.services import TEXT_MAX, TEXT_MIN, ReviewData

STARS = [(n, f"{n} ★") for n in range(5, 0, -1)]


def _stars(label) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(label=label, choices=STARS, coerce=int, widget=forms.RadioSelect)


def _text(label) -> forms.CharField:
    return forms.CharField(
        label=label,
        min_length=TEXT_MIN,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        validators=[validate_no_off_platform_payment],
        help_text=_("{low} to {high} characters. No phone numbers or payment details.").format(
            low=TEXT_MIN, high=TEXT_MAX
        ),
    )


class GuestReviewForm(forms.Form):
    rating = _stars(_("Overall"))
    cleanliness = _stars(_("Cleanliness"))
    accuracy = _stars(_("Accuracy"))
    check_in = _stars(_("Check-in"))
    communication = _stars(_("Communication"))
    location = _stars(_("Location"))
    value = _stars(_("Value"))
    text = _text(_("Your review"))

    def review_data(self) -> ReviewData:
        data = self.cleaned_data
        return ReviewData(
            rating=data["rating"],
            text=data["text"],
            sub_ratings={name: data[name] for name, _label in SUB_RATINGS},
        )


class HostReviewForm(forms.Form):
    rating = _stars(_("Overall"))
    text = _text(_("Your review of the guest"))
    would_host_again = forms.TypedChoiceField(
        label=_("Would you host them again?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )

    def review_data(self) -> ReviewData:
        data = self.cleaned_data
        return ReviewData(rating=data["rating"], text=data["text"], would_host_again=data["would_host_again"])


class AnswerForm(forms.Form):
    answer = _text(_("Your public answer"))


class ReportForm(forms.Form):
    reason = forms.CharField(
        label=_("What is wrong?"), min_length=10, max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )


class ModerationForm(forms.Form):
    ACTIONS = [
        ("hide", _("Hide the review")),
        ("restore", _("Restore the review")),
        ("unpublish", _("Unpublish the listing")),
        ("dismiss", _("Close without action")),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    reason = forms.CharField(label=_("Reason (kept in the audit)"), min_length=5, max_length=500)


class RestoreForm(forms.Form):
    reason = forms.CharField(label=_("Reason (kept in the audit)"), min_length=5, max_length=500)
