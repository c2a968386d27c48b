from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.kinds import SMS_KINDS
from notifications.models import Notification


class PreferencesForm(forms.Form):
    """The language of a person's messages and the kinds of SMS they want (every kind is transactional)."""

    language = forms.ChoiceField(
        label=_("Language of your text messages"), choices=Notification.Language.choices, widget=forms.RadioSelect
    )
    sms_on = forms.MultipleChoiceField(
        label=_("Text me when"),
        choices=list(SMS_KINDS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
