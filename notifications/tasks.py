import datetime

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from notifications.services import notification_send


@task
def notification_send_task(*, notification_id: int) -> None:
    """Make the next attempt at a notification; a refusal that proved nothing was sent is tried again later (at once
    where the task queue cannot wait), until NOTIFICATION_SEND_ATTEMPTS."""
    if notification_send(notification_id=notification_id).retry:
        later = notification_send_task
        if later.get_backend().supports_defer:
            delay = datetime.timedelta(seconds=settings.NOTIFICATION_RETRY_SECONDS)
            later = later.using(run_after=timezone.now() + delay)
        later.enqueue(notification_id=notification_id)
