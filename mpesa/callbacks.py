"""The STK callback's one entry point: apply it, then queue the STK Query that confirms a success.

Applying lives in mpesa/services/stk_callback.py and the query's task in mpesa/tasks.py, a thin wrapper around a
service; this module sits above both, so that services never import tasks.
"""

from django.db import transaction

from mpesa.models import PaymentEvent
from mpesa.services import callback_apply
from mpesa.tasks import payment_verify_task


def callback_process(*, event: PaymentEvent) -> None:
    """Apply a recorded STK callback; a success is confirmed by an STK Query in the task queue once committed."""
    if callback_apply(event=event):
        # Answer the callback first; the query runs in the task queue (the panel and reconcile_payments ask too).
        payment_id = event.payment_id
        transaction.on_commit(lambda: payment_verify_task.enqueue(payment_id=payment_id))
