from django.core.management.base import BaseCommand

from core.clock import local_date
from reviews.requests import review_requests_send
from reviews.services import reviews_publish_due


class Command(BaseCommand):
    help = "Daily: publish reviews whose window closed, then queue review requests and reminders. Safe to repeat."

    def handle(self, *args, **options):
        today = local_date()
        published = reviews_publish_due(today=today)
        queued = review_requests_send(today=today)
        self.stdout.write(f"Reviews published: {published}. Review requests and reminders queued: {queued}.")
