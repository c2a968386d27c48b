from django.core.management.base import BaseCommand

from mpesa.services import payments_reconcile


class Command(BaseCommand):
    help = (
        "Settle pending and verifying M-Pesa payments through the same path as a callback: STK Query from "
        "MPESA_QUERY_AFTER_SECONDS after the push, every MPESA_QUERY_EVERY_SECONDS, unknown after "
        "MPESA_QUERY_WINDOW_SECONDS."
    )

    def handle(self, *args, **options):
        result = payments_reconcile()
        self.stdout.write(f"Checked {result['checked']} payment(s); settled {result['settled']}.")
