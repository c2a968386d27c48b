"""Forms that replace allauth's own (ACCOUNT_FORMS). Apart from core.forms, which allauth's forms module imports
(the sign-up form class), so that importing allauth's forms here makes no cycle."""

from allauth.account.adapter import get_adapter
from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import RequestLoginCodeForm as AllauthRequestLoginCodeForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.utils.translation import gettext_lazy as _

from core.models import User


class RequestLoginCodeForm(AllauthRequestLoginCodeForm):
    """allauth's "send me a sign-in code" form, which must be given a number or an address (allauth's own accepts
    both left empty when e-mail and phone are both sign-in methods, and then fails)."""

    def clean(self):
        cleaned_data = super().clean()
        if not self.errors and not cleaned_data.get("phone") and not cleaned_data.get("email"):
            raise forms.ValidationError(_("Enter your mobile number or your e-mail address."), code="required")
        return cleaned_data


class LoginForm(AllauthLoginForm):
    """allauth's sign-in form, its one field named for what it takes: an e-mail address or a mobile number."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["login"]
        field.label = _("Email or mobile number")
        field.widget.attrs.update({"placeholder": _("Email or mobile number"), "autocomplete": "username"})


class SignupForm(AllauthSignupForm):
    """allauth's sign-up form, which says nothing of whether an address already has an account. allauth hides that
    only when e-mail verification is mandatory; with the address optional (verification "optional"), it would say
    so. Here a taken address is treated as allauth treats a taken number: no account is made, the page goes on to
    the code as for anyone, and the address's owner is told by e-mail."""

    def validate_unique_email(self, value: str) -> str:
        if User.objects.filter(email__iexact=value).exists():
            self.account_already_exists = True
            self.taken_email = value
            return value
        return super().validate_unique_email(value)

    def try_save(self, request):
        if getattr(self, "taken_email", ""):
            get_adapter().send_account_already_exists_mail(self.taken_email)
        return super().try_save(request)
