from django.core.management.base import BaseCommand

from reservations.services import booked_nights_fill


class Command(BaseCommand):
    help = (
        "Rebuild the nights that bookings keep with no deadline (confirmed stays, payments held for support), which "
        "search reads, from the bookings. The migration that made them fills them once; run this after writing "
        "bookings around the booking services (a bulk load). Safe to run again."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"Filled {booked_nights_fill()} booked night(s).")
