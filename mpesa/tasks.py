from django.tasks import task

from mpesa.services import payment_verify


@task
def payment_verify_task(*, payment_id: int) -> None:
    """Confirm a success callback with an STK Query, outside the request that received the callback."""
    payment_verify(payment_id=payment_id)
