"""Africa's Talking for the tests: the emulator served by the test's live server (delays scaled down), reached like
any client reaches it, over HTTP, through its loopback-only hooks."""

import requests

from notifications.models import Notification


def use_sms_emulator(settings, live_server, **overrides) -> None:
    """Send SMS to the emulator served by the live server, with its defaults ({SITE_URL}/africastalking, the
    sandbox username, the development key) and short delays."""
    settings.SMS_ENV = "emulator"
    settings.SITE_URL = live_server.url
    settings.AT_BASE_URL = settings.AT_USERNAME = settings.AT_API_KEY = settings.AT_SENDER_ID = ""
    settings.AT_TIMEOUT_SECONDS = 1
    settings.AT_EMULATOR_REPORT_DELAY_SECONDS = 0.2
    settings.AT_EMULATOR_SLOW_ANSWER_SECONDS = 2.5
    settings.AT_EMULATOR_DELIVERY_TIMEOUT_SECONDS = 5
    for name, value in overrides.items():
        setattr(settings, name, value)


class SmsEmulator:
    """The emulator's test hooks: messages it was sent, outcomes per number, dispatch now, reset."""

    def __init__(self, base_url: str):
        self.url = f"{base_url}/africastalking/__emulator"

    def messages(self, to: str | None = None) -> list[dict]:
        response = requests.get(f"{self.url}/", params={"to": to} if to else None, timeout=10)
        response.raise_for_status()
        return response.json()

    def outcome(self, number: str, **body) -> dict:
        response = requests.post(f"{self.url}/phone/{number}/outcome", json=body, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()

    def dispatch(self) -> int:
        return requests.post(f"{self.url}/dispatch", timeout=10).json()["dispatched"]

    def reset(self) -> None:
        requests.post(f"{self.url}/reset", timeout=10).raise_for_status()


def status_of(notification: Notification) -> str:
    return Notification.objects.values_list("status", flat=True).get(pk=notification.pk)
