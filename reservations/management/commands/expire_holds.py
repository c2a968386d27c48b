from django.core.management.base import BaseCommand

from reservations.services import bookings_expire_all


class Command(BaseCommand):
    help = "Mark lapsed holds as expired, with their events. Only tidies up: readers already ignore lapsed holds."

    def handle(self, *args, **options):
        count = bookings_expire_all()
        self.stdout.write(f"Expired {count} lapsed hold(s).")
