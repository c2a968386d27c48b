from django.core.management.base import BaseCommand

from reservations.messages import bookings_remind_checkin


class Command(BaseCommand):
    help = (
        "Text tomorrow's guests (the booker and linked guests with a number) their check-in time and the link to the "
        "address. Once per booking and date however often it runs: a daily cron job."
    )

    def handle(self, *args, **options):
        count = bookings_remind_checkin()
        self.stdout.write(f"Check-in reminders queued for {count} booking(s).")
