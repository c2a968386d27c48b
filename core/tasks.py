from django.core.mail import EmailMultiAlternatives
from django.tasks import task


@task
def email_send(*, subject: str, body: str, from_email: str, to: list[str], html_body: str = "") -> None:
    """Send one e-mail. Queued after the transaction that decided to send it has committed."""
    message = EmailMultiAlternatives(subject=subject, body=body, from_email=from_email, to=to)
    if html_body:
        message.attach_alternative(html_body, "text/html")
    message.send()
