"""What both ends of Daraja agree on: endpoint paths, the sandbox's public test merchant and the emulator's default
credentials, the STK password and timestamp, and the codes the client must recognise in the emulator's answers.

`mpesa/client.py` speaks this to Safaricom or to the emulator; `daraja_emulator` answers in it. The two apps never
import each other: they meet over HTTP, and here.
"""

import base64
import datetime
from zoneinfo import ZoneInfo

# Daraja's clock: timestamps and the dates inside ids are East Africa Time, whatever the site's time zone.
EAT = ZoneInfo("Africa/Nairobi")

# Endpoints, under Safaricom's host or, in emulator mode, under this site's /daraja/.
OAUTH_PATH = "/oauth/v1/generate"
STK_PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
STK_QUERY_PATH = "/mpesa/stkpushquery/v1/query"
TRANSACTION_STATUS_PATH = "/mpesa/transactionstatus/v1/query"
REVERSAL_PATH = "/mpesa/reversal/v1/request"

# The public sandbox test credentials (Daraja portal), used by the emulator when nothing is configured.
SANDBOX_SHORTCODE = "174379"
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
SANDBOX_INITIATOR_NAME = "testapi"
EMULATOR_CONSUMER_KEY = "nexus-emulator-key"
EMULATOR_CONSUMER_SECRET = "nexus-emulator-secret"

TRANSACTION_STATUS_COMMAND = "TransactionStatusQuery"
REVERSAL_COMMAND = "TransactionReversal"

# "Invalid Access Token": 404.001.03 on most endpoints, 400.003.01 on Transaction Status, 401.002.01 seen too.
INVALID_TOKEN = "404.001.03"
INVALID_TOKEN_TRANSACTION_STATUS = "400.003.01"
INVALID_TOKEN_CODES = {INVALID_TOKEN, "401.002.01", INVALID_TOKEN_TRANSACTION_STATUS}
# The STK Query's ResultCode while the payer has not answered yet.
STILL_PROCESSING = "4999"


def daraja_timestamp(now: datetime.datetime | None = None) -> str:
    """YYYYMMDDHHmmss in East Africa Time, as every Daraja timestamp is."""
    return (now or datetime.datetime.now(tz=EAT)).astimezone(EAT).strftime("%Y%m%d%H%M%S")


def stk_password(*, shortcode: str, passkey: str, timestamp: str) -> str:
    """The STK Push and Query password: base64 of shortcode, passkey and timestamp."""
    return base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode()
