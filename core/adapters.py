from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction

from core.tasks import email_send


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render allauth's message now, send it through the task queue once the request's work is committed."""
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
