from django.core.management.base import BaseCommand

from notifications.outbox import notifications_sweep


class Command(BaseCommand):
    help = (
        "Tidy the outbox: attempts that never reported back become unknown (never sent again), and queued messages "
        "whose task was lost are queued again. Sending itself happens in the task queue."
    )

    def handle(self, *args, **options) -> None:
        settled, queued = notifications_sweep()
        self.stdout.write(f"{settled} attempt(s) marked unknown, {queued} message(s) queued again.")
