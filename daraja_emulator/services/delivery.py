"""Delivering callbacks and results: each claimed by one sender, POSTed once, the answer recorded and ignored."""

import datetime
import ipaddress

import requests
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from requests.adapters import HTTPAdapter

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


class _SourceAddressAdapter(HTTPAdapter):
    """Connections bound to one local address, so the receiver sees the POST coming from there."""

    def __init__(self, source_address: str):
        self._source_address = source_address  # read by init_poolmanager, which HTTPAdapter's __init__ calls
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self._source_address, 0)
        super().init_poolmanager(*args, **kwargs)


def _session(delivery: Delivery) -> requests.Session:
    """A session for one delivery; a spoofed one is bound to its source address. Raises ValueError when that
    is not an IP address."""
    session = requests.Session()
    session.trust_env = False  # callbacks go straight to the merchant, never through a proxy from the environment
    if not delivery.source_address:
        return session
    try:
        address = str(ipaddress.ip_address(delivery.source_address))
    except ValueError:
        session.close()
        raise ValueError(
            f"MPESA_EMULATOR_SPOOFED_SOURCE_IP {delivery.source_address!r} is not an IP address; not sent."
        ) from None
    adapter = _SourceAddressAdapter(address)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def delivery_send(*, delivery: Delivery) -> Delivery:
    """POST once and record what happened; the receiver's answer changes nothing and nothing is retried.

    A spoofed delivery leaves from its source_address: on Linux every 127.0.0.0/8 address is this machine, so it
    reaches a loopback CallBackURL from an address the merchant's allow-list does not name. It cannot reach a
    non-loopback host (the connection fails and the failure is recorded)."""
    try:
        session = _session(delivery)
    except ValueError as error:
        delivery.status = Delivery.Status.FAILED
        delivery.error = wire.printable(str(error)[:2000])
        Delivery.objects.filter(pk=delivery.pk).update(status=delivery.status, error=delivery.error)
        return delivery
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
