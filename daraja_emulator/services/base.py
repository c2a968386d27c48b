"""The emulator's clock, merchant configuration, OAuth tokens, the call log and reset."""

import datetime
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.daraja_wire import (
    EMULATOR_CONSUMER_KEY,
    EMULATOR_CONSUMER_SECRET,
    INVALID_TOKEN,
    SANDBOX_PASSKEY,
    SANDBOX_SHORTCODE,
)

from .. import dispatcher, ids, wire
from ..models import AccessToken, ApiCall, AsyncRequest, Clock, Delivery, PlannedOutcome, StkPush
from ..wire import DarajaFault

TOKEN_LIFETIME = datetime.timedelta(seconds=3600)
# Names the emulator gives the parties, as M-Pesa shows them in prompts and results.
BUSINESS_NAME = "NEXUS STAYS"
CUSTOMER_NAME = "MPESA CUSTOMER"


class PromptError(Exception):
    """The virtual phone could not act on a prompt; the message is safe to show."""


def seconds(name: str) -> datetime.timedelta:
    return datetime.timedelta(seconds=float(getattr(settings, name)))


# -- the clock ------------------------------------------------------------------------------------------


def emulator_now() -> datetime.datetime:
    """The emulator's clock: real time plus the offset the test hook set."""
    offset = Clock.objects.filter(pk=1).values_list("offset_seconds", flat=True).first() or 0
    return timezone.now() + datetime.timedelta(seconds=offset)


def clock_advance(*, by_seconds: float) -> datetime.datetime:
    """Move the emulator's clock forward (tokens expire, prompts time out, deliveries fall due)."""
    with transaction.atomic():
        clock, _ = Clock.objects.select_for_update().get_or_create(pk=1)
        clock.offset_seconds += by_seconds
        clock.save(update_fields=["offset_seconds"])
        transaction.on_commit(dispatcher.wake, robust=True)
    return emulator_now()


# -- merchant configuration --------------------------------------------------------------------------------


def known_shortcode() -> str:
    return settings.MPESA_SHORTCODE or SANDBOX_SHORTCODE


def known_passkey() -> str:
    return settings.MPESA_PASSKEY or SANDBOX_PASSKEY


def known_credentials() -> tuple[str, str]:
    if settings.MPESA_CONSUMER_KEY or settings.MPESA_CONSUMER_SECRET:
        return settings.MPESA_CONSUMER_KEY, settings.MPESA_CONSUMER_SECRET
    return EMULATOR_CONSUMER_KEY, EMULATOR_CONSUMER_SECRET


# -- OAuth --------------------------------------------------------------------------------------------------


def token_issue(*, authorization: str, grant_type: str | None) -> AccessToken:
    """A new access token. Raises DarajaFault (400.008.02, 400.008.01) or EmptyBadRequest."""
    if grant_type != "client_credentials":
        raise DarajaFault(400, "400.008.02", "Invalid grant type passed")
    credentials = wire.basic_credentials(authorization)
    if credentials is None:
        raise DarajaFault(400, "400.008.01", "Invalid Authentication passed")
    key, secret = known_credentials()
    if not (secrets.compare_digest(credentials[0], key) and secrets.compare_digest(credentials[1], secret)):
        if settings.MPESA_EMULATOR_OAUTH_ERROR_JSON:
            raise DarajaFault(400, "400.008.01", "Invalid Authentication passed")
        raise wire.EmptyBadRequest()
    now = emulator_now()
    with transaction.atomic():
        if settings.MPESA_EMULATOR_SINGLE_TOKEN:
            AccessToken.objects.filter(consumer_key=key).delete()
        return AccessToken.objects.create(
            token=ids.access_token(), consumer_key=key, issued_at=now, expires_at=now + TOKEN_LIFETIME
        )


def token_check(*, authorization: str, code: str = INVALID_TOKEN, http_status: int | None = None) -> None:
    """Raises DarajaFault "Invalid Access Token" unless the Bearer token is known and unexpired."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    valid = (
        scheme == "Bearer"
        and 0 < len(token) <= 28
        and AccessToken.objects.filter(token=token, expires_at__gt=emulator_now()).exists()
    )
    if not valid:
        raise DarajaFault(http_status or settings.MPESA_EMULATOR_TOKEN_ERROR_STATUS, code, "Invalid Access Token")


@transaction.atomic
def emulator_reset() -> None:
    """Forget everything: tokens, pushes, outcomes, result requests, deliveries, calls, the clock offset."""
    for model in (Delivery, PlannedOutcome, AsyncRequest, StkPush, AccessToken, ApiCall, Clock):
        model.objects.all().delete()


def api_call_record(*, method: str, path: str, request_body: bytes, status: int, response_body: bytes) -> None:
    ApiCall.objects.create(
        method=method[:10],
        path=wire.printable(path[:200]),
        request_body=wire.printable(request_body[:20_000].decode("utf-8", errors="replace")),
        response_status=status,
        response_body=wire.printable(response_body[:20_000].decode("utf-8", errors="replace")),
    )


def _unique_receipt(now: datetime.datetime) -> str:
    while True:
        receipt = ids.receipt_number(now)
        if not (
            StkPush.objects.filter(receipt=receipt).exists() or AsyncRequest.objects.filter(receipt=receipt).exists()
        ):
            return receipt
