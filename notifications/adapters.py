"""allauth's account adapter: every account e-mail (address confirmation, password reset, notices) goes through the
outbox like any other message."""

import uuid

from allauth.account.adapter import DefaultAccountAdapter

from core.models import User
from notifications.models import Notification
from notifications.outbox import notification_queue
from notifications.rendering import email_html_from_text


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render allauth's message now and queue it in the outbox, in the request's transaction: sent once that
        commits. Its body carries a confirmation or reset link or a code, so it is kept secret (never shown, erased
        once sent)."""
        message = self.render_mail(template_prefix, email, context)
        html_body = ""
        for content, mimetype in getattr(message, "alternatives", []):
            if mimetype == "text/html":
                html_body = content
        # allauth writes plain text: the HTML part in the site's style is made from it.
        html_body = html_body or email_html_from_text(subject=message.subject, text=message.body)
        user = context.get("user")
        notification_queue(
            kind=f"account_{template_prefix.rsplit('/', 1)[-1]}"[:40],
            # Each account e-mail is its own event: the same mail asked for twice is sent twice.
            object_key=f"account-mail:{uuid.uuid4().hex}",
            channel=Notification.Channel.EMAIL,
            address=email,
            recipient=user if isinstance(user, User) and user.pk else None,
            subject=message.subject,
            body=message.body,
            html_body=html_body,
            secret=True,
        )
