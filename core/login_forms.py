"""Forms that replace allauth's own (ACCOUNT_FORMS). Apart from core.forms, which allauth's forms module imports
(the sign-up form class), so that importing allauth's forms here makes no cycle."""

from allauth.account.forms import RequestLoginCodeForm as AllauthRequestLoginCodeForm
from django import forms
from django.utils.translation import gettext_lazy as _


class RequestLoginCodeForm(AllauthRequestLoginCodeForm):
    """allauth's "send me a sign-in code" form, which must be given a number or an address (allauth's own accepts
    both left empty when e-mail and phone are both sign-in methods, and then fails)."""

    def clean(self):
        cleaned_data = super().clean()
        if not self.errors and not cleaned_data.get("phone") and not cleaned_data.get("email"):
            raise forms.ValidationError(_("Enter your mobile number or your e-mail address."), code="required")
        return cleaned_data
