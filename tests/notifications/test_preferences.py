import pytest
from django.urls import reverse

from notifications.kinds import SMS_KINDS
from notifications.models import NotificationPreference
from notifications.recipients import language_for, sms_wanted

pytestmark = pytest.mark.django_db
URL = reverse("notifications:preferences")


def test_the_profile_page_loads_the_message_preferences(client, make_user):
    client.force_login(make_user())
    page = client.get(reverse("profile")).content.decode()
    assert f'hx-get="{URL}"' in page and f'href="{URL}"' in page  # a link without JavaScript
    fragment = client.get(URL, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<section id="message-preferences"') and "<html" not in fragment
    for kind in SMS_KINDS:
        assert f'value="{kind}"' in fragment
    assert "nothing promotional is ever sent" in fragment


def test_choices_are_saved_and_followed(client, make_user):
    user = make_user()
    client.force_login(user)
    assert language_for(user) == "en" and all(sms_wanted(user, kind) for kind in SMS_KINDS)
    kept = ["booking_confirmed", "payment_failed"]
    response = client.post(URL, {"language": "sw", "sms_on": kept}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Saved." in response.content.decode()
    preference = NotificationPreference.objects.get(user=user)
    assert preference.language == "sw" and sorted(preference.sms_off) == sorted(set(SMS_KINDS) - set(kept))
    assert language_for(user) == "sw" and sms_wanted(user, "booking_confirmed")
    assert not sms_wanted(user, "hold_created")

    response = client.post(URL, {"language": "en", "sms_on": list(SMS_KINDS)})  # without JavaScript
    assert response.status_code == 302 and response["Location"] == reverse("profile")
    assert NotificationPreference.objects.get(user=user).sms_off == []


@pytest.mark.parametrize(
    "data",
    [
        {"language": "fr"},
        {"language": "en", "sms_on": ["promotions"]},
        {},
        {"language": "en" * 1000, "sms_on": ["\x00"]},
    ],
)
def test_anything_else_is_refused_in_the_form(client, make_user, data):
    client.force_login(make_user())
    response = client.post(URL, data, headers={"HX-Request": "true"})
    assert response.status_code == 422 and not NotificationPreference.objects.exists()


def test_preferences_are_only_for_the_signed_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post(URL, {"language": "sw"}).status_code == 302
    assert not NotificationPreference.objects.exists()
