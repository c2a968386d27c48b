from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import MpesaPhoneField


class PayForm(forms.Form):
    phone = MpesaPhoneField(
        label=_("M-Pesa phone number"),
        required=True,
        help_text=_("You will get a prompt on this phone to enter your M-Pesa PIN."),
    )


class GuestCodeForm(forms.Form):
    code = forms.CharField(
        label=_("M-Pesa code from your SMS"),
        min_length=10,
        max_length=10,
        help_text=_("10 letters and digits, e.g. UKK4H7TQ2M"),
    )
