import pytest
from django.core import mail
from django.urls import reverse

from notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_account_emails_go_through_the_outbox_and_keep_their_link_secret(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_signup"),
            {
                "full_name": "Wanjiru Kamau",
                "email": "Wanjiru@Example.com",
                "mpesa_phone": "0712 345 678",
                "password1": "tembea-mombasa-2026",
                "password2": "tembea-mombasa-2026",
            },
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["wanjiru@example.com"]
    assert "/accounts/confirm-email/" in mail.outbox[0].body
    # allauth writes plain text; the HTML part in the site's style is made from it, its link clickable.
    html, mimetype = mail.outbox[0].alternatives[0]
    assert mimetype == "text/html" and 'href="http://testserver/accounts/confirm-email/' in html and "Nexus" in html

    notification = Notification.objects.get()
    assert notification.channel == Notification.Channel.EMAIL
    assert notification.kind.startswith("account_email_confirmation")
    assert notification.address == "wanjiru@example.com"
    assert notification.recipient.email == "wanjiru@example.com"
    assert notification.status == Notification.Status.SENT
    # The confirmation link is a secret: erased once sent, never shown.
    assert notification.secret and notification.body == notification.html_body == notification.shown_body == ""
