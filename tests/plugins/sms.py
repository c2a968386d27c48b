"""The Africa's Talking emulator on the test's live server, and its hooks."""

import pytest

from africastalking_emulator import dispatcher
from tests.helpers.sms import SmsEmulator, use_sms_emulator


@pytest.fixture
def sms_emulator(settings, live_server):
    use_sms_emulator(settings, live_server)
    yield SmsEmulator(live_server.url)
    dispatcher.stop()
