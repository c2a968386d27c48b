"""Daraja for the tests: the emulator served by the test's live server (delays scaled down), and a fake that
answers the console's requests like Daraja's acknowledgements."""

from daraja_emulator.models import Delivery, StkPush
from mpesa.client import AsyncAccepted, DarajaError, Exchange, StkQueryAnswer


def use_emulator(settings, live_server, **overrides) -> None:
    """Point the Daraja client at the emulator served by the test's live server, with delays scaled down."""
    settings.MPESA_ENV = "emulator"
    settings.MPESA_BASE_URL = live_server.url + "/daraja"
    settings.MPESA_CALLBACK_BASE_URL = live_server.url
    settings.MPESA_CONSUMER_KEY = settings.MPESA_CONSUMER_SECRET = ""
    settings.MPESA_SHORTCODE = settings.MPESA_PASSKEY = ""
    settings.MPESA_EMULATOR_CALLBACK_DELAY_SECONDS = 0.2
    settings.MPESA_EMULATOR_TIMEOUT_SECONDS = 0.3
    settings.MPESA_EMULATOR_LATE_CALLBACK_SECONDS = 2
    settings.MPESA_EMULATOR_QUERY_NOT_FOUND_SECONDS = 0
    for name, value in overrides.items():
        setattr(settings, name, value)


def emulator_idle() -> bool:
    """The emulator has nothing left to do: no push waiting to settle, no delivery scheduled or on its way (a
    delivery is marked sent only once the receiver has answered, so whatever it set off there is done)."""
    return (
        not StkPush.objects.filter(status=StkPush.Status.PENDING).exists()
        and not Delivery.objects.filter(status__in=[Delivery.Status.SCHEDULED, Delivery.Status.SENDING]).exists()
    )


class FakeDaraja:
    """Answers like Daraja's acknowledgements; the outcomes arrive later as result callbacks posted by the test."""

    def __init__(self):
        self.calls = []
        self.query_answer = StkQueryAnswer(final=False, result_code="4999", result_desc="Still processing")
        self.refuse = None

    def _accepted(self, endpoint: str, request: dict):
        if self.refuse:
            error = DarajaError(self.refuse, code="500.002.1001")
            error.exchange = Exchange(endpoint, request, 500, {"errorMessage": self.refuse})
            raise error
        response = {
            "OriginatorConversationID": "c3f1-4a8e-9d2b-7e5c0a1f6b4d4472058",
            "ConversationID": f"AG_20261121_2010e4b7c1a9d3f25e{len(self.calls):02d}",
            "ResponseCode": "0",
            "ResponseDescription": "Accept the service request successfully.",
        }
        return AsyncAccepted(
            conversation_id=response["ConversationID"],
            originator_conversation_id=response["OriginatorConversationID"],
            exchange=Exchange(endpoint, request, 200, response),
        )

    def stk_query(self, *, checkout_request_id: str):
        self.calls.append(("stk_query", {"checkout_request_id": checkout_request_id}))
        return self.query_answer

    def transaction_status(self, **kwargs):
        self.calls.append(("transaction_status", kwargs))
        return self._accepted("/mpesa/transactionstatus/v1/query", {"TransactionID": kwargs["receipt"]})

    def reversal(self, **kwargs):
        self.calls.append(("reversal", kwargs))
        return self._accepted("/mpesa/reversal/v1/request", {"TransactionID": kwargs["receipt"]})


# Where mpesa makes its Daraja client, for the console's requests too: STK Query, Reversal, Transaction Status.
CONSOLE_CLIENTS = ("mpesa.client.daraja",)


def use_fake_daraja(monkeypatch, fake) -> None:
    for target in CONSOLE_CLIENTS:
        monkeypatch.setattr(target, lambda: fake)
