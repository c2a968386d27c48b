from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction

from core.site import absolute_url, current_site, email_sender, email_subject
from core.tasks import email_send


class AccountAdapter(DefaultAccountAdapter):
    def get_from_email(self) -> str:
        return email_sender()

    def format_email_subject(self, subject: str) -> str:
        return email_subject(subject)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render allauth's message now, send it through the task queue once the request's work is committed.

        The greeting names SITE_NAME, and every link in it (confirmation, password reset, sign-up) is on SITE_URL,
        whatever host the request came in on."""
        context = {**context, "current_site": current_site()}
        for key, value in context.items():
            if key.endswith("_url") and isinstance(value, str) and value:
                context[key] = absolute_url(value)
        message = self.render_mail(template_prefix, email, context)
        html_body = ""
        for content, mimetype in getattr(message, "alternatives", []):
            if mimetype == "text/html":
                html_body = content
        fields = {
            "subject": message.subject,
            "body": message.body,
            "from_email": message.from_email,
            "to": list(message.to),
            "html_body": html_body,
        }
        transaction.on_commit(lambda: email_send.enqueue(**fields))
