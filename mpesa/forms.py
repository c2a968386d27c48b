from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.phone import INVALID_PHONE_MESSAGE, is_probably_safaricom, mask_phone, normalise_mobile, normalise_phone

SAFARICOM_ONLY = _("M-Pesa prompts go to Safaricom numbers.")


class PayForm(forms.Form):
    """The number to push the M-Pesa prompt to. One outside Safaricom's ranges (Airtel, Telkom) is pushed to only
    once the payer sends it again after being told (numbers move between networks, so M-Pesa decides); another
    country's never."""

    phone = forms.CharField(
        label=_("M-Pesa phone number"),
        max_length=32,
        help_text=_("You will get a prompt on this phone to enter your M-Pesa PIN."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    # The number the payer was warned about and sends anyway (set by the page after the warning).
    confirmed_phone = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unconfirmed_phone = ""

    def clean_phone(self) -> str:
        raw = self.cleaned_data["phone"]
        try:
            return normalise_phone(raw)
        except ValidationError:
            try:
                normalise_mobile(raw)
            except ValidationError:
                raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone") from None
        # A valid number of another country: M-Pesa cannot prompt it.
        raise ValidationError(
            _("%(rule)s Enter the Safaricom number you pay with.") % {"rule": SAFARICOM_ONLY}, code="not_kenyan"
        )

    def clean(self):
        cleaned_data = super().clean()
        phone = cleaned_data.get("phone")
        if phone and not is_probably_safaricom(phone) and cleaned_data.get("confirmed_phone") != phone:
            self.unconfirmed_phone = phone
            # The form shown again carries the number warned about: sending it unchanged confirms it.
            self.data = self.data.copy()
            self.data[self.add_prefix("confirmed_phone")] = phone
            self.add_error(
                "phone",
                ValidationError(
                    _(
                        "%(rule)s %(number)s looks like another network's: send the prompt again only if it has "
                        "moved to Safaricom."
                    )
                    % {"rule": SAFARICOM_ONLY, "number": mask_phone(phone)},
                    code="not_safaricom",
                ),
            )
        return cleaned_data

    @property
    def network_hint(self) -> str:
        """For a prefilled number outside Safaricom's ranges: the rule, before anything is pushed."""
        phone = self.initial.get("phone", "") if not self.is_bound else ""
        if phone and not is_probably_safaricom(phone):
            return str(SAFARICOM_ONLY)
        return ""


class GuestCodeForm(forms.Form):
    code = forms.CharField(
        label=_("M-Pesa code from your SMS"),
        min_length=10,
        max_length=10,
        help_text=_("10 letters and digits, e.g. UKK4H7TQ2M"),
    )
