"""What both ends of Africa's Talking's SMS API agree on: the messaging path, the send-time statusCodes and the
delivery-report statuses with their spellings, the emulator's default credentials, where delivery reports go, and
the audience header the outbox adds for the emulator only.

`notifications/client.py` speaks this to Africa's Talking or to the emulator; `africastalking_emulator` answers in it.
The two apps never import each other: they meet over HTTP, and here. Spellings follow Africa's Talking's
documentation (SMS > Sending, SMS > Notifications), including its "UserInBlacklist" (send-time) beside
"UserInBlackList" (delivery-report failureReason) and "NotNetworkSubcriber".
"""

from django.core import signing
from django.utils.crypto import salted_hmac

# POST {base URL}/version1/messaging, form-encoded, with the apiKey header and Accept: application/json.
MESSAGING_PATH = "/version1/messaging"
INVALID_AUTHENTICATION = "The supplied authentication is invalid"  # 401, text/plain

SANDBOX_USERNAME = "sandbox"
# The emulator accepts AT_API_KEY when one is set, and always this development key.
EMULATOR_API_KEY = "nexus-emulator-at-key"

# A recipient's statusCode in the answer to a send (SMSMessageData.Recipients[].statusCode).
STATUS_CODES = {
    100: "Processed",
    101: "Sent",
    102: "Queued",
    401: "RiskHold",
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    405: "InsufficientBalance",
    406: "UserInBlacklist",
    407: "CouldNotRoute",
    409: "DoNotDisturbRejection",
    500: "InternalServerError",
    501: "GatewayError",
    502: "RejectedByGateway",
}
STATUS_CODE_BY_NAME = {name: code for code, name in STATUS_CODES.items()}
# Taken for sending: the message went out (or will) and its delivery report names it by messageId.
SENT_CODES = frozenset({100, 101, 102})
# Refused: nothing was sent to that recipient. Asking again cannot help for these ...
REFUSED_FOR_GOOD = frozenset({402, 403, 404, 406})
# ... and may help later for the others (risk hold, balance, routing, the gateways).
REFUSED_FOR_NOW = frozenset(STATUS_CODES) - SENT_CODES - REFUSED_FOR_GOOD
# A recipient's `status` when it was taken ("This does not indicate the delivery status").
ACCEPTED_STATUS = "Success"

# A delivery report's `status`. Sent, Submitted and Buffered are on the way; the others are final.
REPORT_ON_THE_WAY = ("Sent", "Submitted", "Buffered")
REPORT_DELIVERED = "Success"
REPORT_NOT_DELIVERED = ("Rejected", "Failed", "AbsentSubscriber", "Expired")
REPORT_STATUSES = (*REPORT_ON_THE_WAY, REPORT_DELIVERED, *REPORT_NOT_DELIVERED)
# A delivery report's `failureReason`, sent only with Rejected or Failed.
FAILURE_REASONS = (
    "InsufficientCredit",
    "InvalidLinkId",
    "UserIsInactive",
    "UserInBlackList",
    "UserAccountSuspended",
    "NotNetworkSubcriber",
    "UserNotSubscribedToProduct",
    "UserDoesNotExist",
    "DeliveryFailure",
    "DoNotDisturbRejection",
)
# A delivery report's `networkCode` for Kenyan networks, and the sandbox's own.
NETWORK_CODES = {"Safaricom": "63902", "Airtel Kenya": "63903", "Orange Kenya": "63907", "Equitel": "63999"}
SANDBOX_NETWORK_CODE = "99999"

# Where Africa's Talking posts delivery reports: set once per account in its dashboard to
# {SITE_URL}/notifications/sms/delivery/{SMS_DELIVERY_TOKEN}/. The emulator posts to the same address.
DELIVERY_REPORT_PATH = "/notifications/sms/delivery/{token}/"

# Whom a message is for, sent by the outbox to the emulator only (never to Africa's Talking): the emulator's virtual
# inbox shows a message to that account or that browser session, never by number. Signed with the site's secret key,
# so a request to the emulator cannot put a message in someone else's inbox.
AUDIENCE_HEADER = "X-Nexus-Audience"
_AUDIENCE_SALT = "africastalking-emulator.audience"


def e164(phone: str) -> str:
    """A normalised Kenyan number (2547XXXXXXXX) as Africa's Talking writes it: +2547XXXXXXXX."""
    return phone if phone.startswith("+") else f"+{phone}"


def session_tag(session_key: str | None) -> str:
    """A keyed hash of a browser session's key: it names the session without giving away the key."""
    if not session_key:
        return ""
    return salted_hmac(_AUDIENCE_SALT, session_key, algorithm="sha256").hexdigest()


def audience_sign(*, user_id: int | None, session: str) -> str:
    """The audience header's value: the account id and the session tag, signed."""
    return signing.dumps({"u": user_id, "s": session}, salt=_AUDIENCE_SALT, compress=False)


def audience_read(value: str) -> tuple[int | None, str]:
    """(account id, session tag) from a header value; (None, "") when it is missing, forged or malformed."""
    try:
        data = signing.loads(value[:1000], salt=_AUDIENCE_SALT)
    except signing.BadSignature:
        return None, ""
    if not isinstance(data, dict):
        return None, ""
    user_id, session = data.get("u"), data.get("s")
    user_id = user_id if isinstance(user_id, int) and not isinstance(user_id, bool) and user_id > 0 else None
    session = session if isinstance(session, str) and len(session) <= 64 else ""
    return user_id, session
