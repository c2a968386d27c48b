"""The wire facts the Daraja client and the emulator share: the STK password and Daraja's timestamp."""

import datetime
import json

from core.daraja_wire import SANDBOX_PASSKEY, SANDBOX_SHORTCODE, daraja_timestamp, stk_password
from tests.vectors import VECTORS


def test_the_stk_password_matches_the_request_vector():
    request = json.loads((VECTORS / "stk_push_request.json").read_text())
    password = stk_password(shortcode=SANDBOX_SHORTCODE, passkey=SANDBOX_PASSKEY, timestamp=request["Timestamp"])
    assert password == request["Password"]


def test_the_timestamp_is_east_africa_time():
    moment = datetime.datetime(2026, 11, 20, 21, 30, 5, tzinfo=datetime.UTC)
    assert daraja_timestamp(moment) == "20261121003005"
