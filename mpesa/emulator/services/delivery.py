"""Delivering callbacks and results: each claimed by one sender, POSTed once, the answer recorded and ignored."""

import datetime

import requests
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .. import wire
from ..models import Delivery, StkPush
from .base import emulator_now
from .stk import _settle_overdue


def _claim_due(now: datetime.datetime) -> list[Delivery]:
    """Take due deliveries for this process; a row another worker holds or took is skipped."""
    with transaction.atomic():
        queryset = Delivery.objects.filter(status=Delivery.Status.SCHEDULED, due_at__lte=now).order_by("due_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            queryset = queryset.select_for_update(skip_locked=True)
        claimed = []
        for delivery in list(queryset[:20]):
            taken = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SCHEDULED).update(
                status=Delivery.Status.SENDING, attempted_at=timezone.now()
            )
            if taken:
                claimed.append(delivery)
        return claimed


def delivery_send(*, delivery: Delivery) -> Delivery:
    """POST once and record what happened; the receiver's answer changes nothing and nothing is retried."""
    session = requests.Session()
    session.trust_env = False  # callbacks go straight to the merchant, never through a proxy from the environment
    try:
        response = session.post(
            delivery.url,
            data=delivery.body.encode("utf-8"),
            headers=delivery.headers,
            timeout=float(settings.MPESA_EMULATOR_DELIVERY_TIMEOUT_SECONDS),
            allow_redirects=False,
        )
        delivery.status = Delivery.Status.SENT
        delivery.response_status = response.status_code
        delivery.response_body = wire.printable(response.text[:2000])
    except requests.RequestException as error:
        delivery.status = Delivery.Status.FAILED
        delivery.error = wire.printable(str(error)[:2000])
    finally:
        session.close()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=delivery.status,
        response_status=delivery.response_status,
        response_body=delivery.response_body,
        error=delivery.error,
    )
    return delivery


def run_due() -> float | None:
    """Settle pushes whose time has come and send due deliveries. Returns seconds until the next piece of
    work, or None when nothing is outstanding."""
    _settle_overdue(StkPush.objects.all())
    for delivery in _claim_due(emulator_now()):
        delivery_send(delivery=delivery)
    now = emulator_now()
    upcoming = [
        StkPush.objects.filter(status=StkPush.Status.PENDING).order_by("settle_at").values_list("settle_at").first(),
        Delivery.objects.filter(status=Delivery.Status.SCHEDULED).order_by("due_at").values_list("due_at").first(),
    ]
    moments = [row[0] for row in upcoming if row]
    if not moments:
        return None
    return max(0.0, (min(moments) - now).total_seconds())
