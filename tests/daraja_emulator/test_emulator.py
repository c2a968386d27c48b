"""The Daraja emulator on the wire: each error vector from its matching bad request, the answers' shapes and ids,
the query states, the test hooks and the virtual phone's pages. Deliveries over real HTTP are in
test_emulator_callbacks.py."""

import base64
import datetime
import importlib
import json
import re

import pytest
import time_machine
from django.urls import Resolver404, clear_url_caches, resolve

from core.daraja_wire import SANDBOX_PASSKEY, daraja_timestamp, stk_password
from daraja_emulator import ids, services
from daraja_emulator.models import Delivery, StkPush
from tests.daraja_emulator.emulator_support import (
    BASIC,
    CHECKOUT_REQUEST_ID_RE,
    INDEX,
    MERCHANT_REQUEST_ID_RE,
    OAUTH,
    PUSH,
    QUERY,
    REVERSAL,
    STATUS,
    TOKEN_RE,
    assert_error_vector,
    assert_same_shape,
    for_phone,
    push_request,
    query_request,
)
from tests.vectors import vector

pytestmark = pytest.mark.django_db

CALLBACK = "https://bookings.example.com/payments/stk-callback/9cf2574c19af21254ef5911d03958d3e"


@pytest.fixture(autouse=True)
def _emulator_settings(settings):
    settings.MPESA_ENV = "emulator"
    settings.MPESA_CONSUMER_KEY = settings.MPESA_CONSUMER_SECRET = ""
    settings.MPESA_SHORTCODE = settings.MPESA_PASSKEY = ""
    settings.MPESA_EMULATOR_STRICT = False
    settings.MPESA_EMULATOR_QUERY_NOT_FOUND_SECONDS = 0
    settings.MPESA_EMULATOR_CALLBACK_DELAY_SECONDS = 60  # nothing settles on its own unless a test says so


@pytest.fixture
def token(client) -> str:
    return client.get(OAUTH, headers={"Authorization": BASIC}).json()["access_token"]


@pytest.fixture
def post(client, token):
    def _post(path: str, body, *, bearer: str | None = None, content_type: str = "application/json"):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return client.post(
            path, data=data, content_type=content_type, headers={"Authorization": f"Bearer {bearer or token}"}
        )

    return _post


# -- OAuth ----------------------------------------------------------------------------------------------------


def test_oauth_issues_a_28_character_token_with_expires_in_as_a_string(client):
    response = client.get(OAUTH, headers={"Authorization": BASIC})
    assert response.status_code == 200
    body = response.json()
    assert_same_shape(body, vector("oauth_response"))
    assert body["expires_in"] == "3599" and TOKEN_RE.match(body["access_token"])


def test_oauth_without_grant_type_is_the_invalid_grant_type_vector(client):
    response = client.get("/daraja/oauth/v1/generate", headers={"Authorization": BASIC})
    assert_error_vector(response, "oauth_error_invalid_grant_type")
    response = client.get("/daraja/oauth/v1/generate?grant_type=password", headers={"Authorization": BASIC})
    assert_error_vector(response, "oauth_error_invalid_grant_type")


@pytest.mark.parametrize("header", [None, "Bearer abc", "Basic", "Basic !!!not-base64!!!", "Basic bm9jb2xvbg=="])
def test_oauth_without_a_basic_header_is_the_invalid_authentication_vector(client, header):
    headers = {"Authorization": header} if header else {}
    assert_error_vector(client.get(OAUTH, headers=headers), "oauth_error_invalid_authentication")


def test_oauth_with_unknown_credentials_is_400_with_an_empty_body(client):
    wrong = "Basic " + base64.b64encode(b"someone:else").decode()
    response = client.get(OAUTH, headers={"Authorization": wrong})
    assert response.status_code == 400 and response.content == b""
    assert INDEX["oauth_error_wrong_credentials"]["file"] is None  # the catalogue's empty body


def test_oauth_unknown_credentials_can_answer_json_as_older_libraries_expect(client, settings):
    settings.MPESA_EMULATOR_OAUTH_ERROR_JSON = True
    wrong = "Basic " + base64.b64encode(b"someone:else").decode()
    assert_error_vector(client.get(OAUTH, headers={"Authorization": wrong}), "oauth_error_invalid_authentication")


def test_oauth_accepts_the_configured_credentials_instead_of_the_defaults(client, settings):
    settings.MPESA_CONSUMER_KEY, settings.MPESA_CONSUMER_SECRET = "our-key", "our-secret"
    ours = "Basic " + base64.b64encode(b"our-key:our-secret").decode()
    assert client.get(OAUTH, headers={"Authorization": ours}).status_code == 200
    assert client.get(OAUTH, headers={"Authorization": BASIC}).status_code == 400


def test_a_token_expires_an_hour_after_issue_on_the_emulator_clock(client, post):
    token = client.get(OAUTH, headers={"Authorization": BASIC}).json()["access_token"]
    body = push_request(CallBackURL=CALLBACK)
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=3590)):
        assert post(PUSH, push_request(CallBackURL=CALLBACK), bearer=token).status_code == 200
    client.post("/daraja/__emulator/clock", data={"advance_s": 3601}, content_type="application/json")
    assert_error_vector(post(PUSH, body, bearer=token), "error_invalid_token")


def test_with_the_single_token_switch_a_new_token_revokes_the_previous_one(client, post, settings):
    settings.MPESA_EMULATOR_SINGLE_TOKEN = True
    first = client.get(OAUTH, headers={"Authorization": BASIC}).json()["access_token"]
    second = client.get(OAUTH, headers={"Authorization": BASIC}).json()["access_token"]
    assert_error_vector(post(PUSH, push_request(CallBackURL=CALLBACK), bearer=first), "error_invalid_token")
    assert post(PUSH, push_request(CallBackURL=CALLBACK), bearer=second).status_code == 200


# -- STK push: every error vector from its matching bad request -------------------------------------------------


def _wrong_password():
    return push_request(
        CallBackURL=CALLBACK, Password=stk_password(shortcode="174379", passkey="0" * 64, timestamp="20261120140512")
    )


def _other_merchant():
    stamp = daraja_timestamp()
    return push_request(
        CallBackURL=CALLBACK,
        BusinessShortCode=600000,
        PartyB=600000,
        Timestamp=stamp,
        Password=stk_password(shortcode="600000", passkey=SANDBOX_PASSKEY, timestamp=stamp),
    )


BAD_PUSHES = [
    ("stk_push_error_wrong_credentials", _wrong_password),
    ("stk_push_error_wrong_credentials", lambda: push_request(CallBackURL=CALLBACK, Timestamp="20261120140513")),
    ("stk_push_error_invalid_timestamp", lambda: push_request(CallBackURL=CALLBACK, Timestamp="2026-11-20 14:05")),
    ("stk_push_error_invalid_timestamp", lambda: push_request(CallBackURL=CALLBACK, Timestamp="20261340140512")),
    ("stk_push_error_invalid_amount", lambda: push_request(CallBackURL=CALLBACK, Amount=0)),
    ("stk_push_error_invalid_amount", lambda: push_request(CallBackURL=CALLBACK, Amount=10.5)),
    ("stk_push_error_invalid_amount", lambda: push_request(CallBackURL=CALLBACK, Amount="-5")),
    ("stk_push_error_invalid_amount", lambda: push_request(CallBackURL=CALLBACK, Amount="4500.00")),
    ("stk_push_error_invalid_phone", lambda: push_request(CallBackURL=CALLBACK, PhoneNumber="0712345678")),
    ("stk_push_error_invalid_phone", lambda: push_request(CallBackURL=CALLBACK, PhoneNumber=255712345678)),
    ("stk_push_error_invalid_phone", lambda: push_request(CallBackURL=CALLBACK, PartyA="x", PhoneNumber="x")),
    ("stk_push_error_invalid_callbackurl", lambda: push_request(CallBackURL="not a url")),
    ("stk_push_error_invalid_callbackurl", lambda: push_request(CallBackURL="https://Bookings.Example.com/cb")),
    ("stk_push_error_invalid_callbackurl", lambda: push_request(CallBackURL="http://bookings.example.com/cb")),
    ("stk_push_error_invalid_callbackurl", lambda: push_request(CallBackURL="ftp://127.0.0.1/cb")),
    ("stk_push_error_invalid_shortcode", lambda: push_request(CallBackURL=CALLBACK, BusinessShortCode="12")),
    ("stk_push_error_invalid_shortcode", lambda: push_request(CallBackURL=CALLBACK, BusinessShortCode=None)),
    ("stk_push_error_merchant_not_exist", _other_merchant),
]


@pytest.mark.parametrize(("name", "make_body"), BAD_PUSHES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(BAD_PUSHES)])
def test_each_push_error_vector_comes_from_its_bad_request(post, name, make_body):
    assert_error_vector(post(PUSH, make_body()), name)
    assert not StkPush.objects.exists()


def test_a_second_push_to_a_phone_with_an_open_prompt_is_the_subscriber_locked_vector(post):
    assert post(PUSH, push_request(CallBackURL=CALLBACK)).status_code == 200
    assert_error_vector(post(PUSH, push_request(CallBackURL=CALLBACK)), "stk_push_error_subscriber_locked")
    assert StkPush.objects.count() == 1


def test_a_form_encoded_push_is_the_invalid_shortcode_vector(post):
    response = post(PUSH, "BusinessShortCode=174379&Amount=1", content_type="application/x-www-form-urlencoded")
    assert_error_vector(response, "stk_push_error_invalid_shortcode")


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"text"', "\xff\xfe", ""])
def test_a_body_that_is_not_a_json_object_is_the_invalid_payload_vector(post, raw):
    assert_error_vector(post(PUSH, raw), "error_invalid_payload")
    assert_error_vector(post(QUERY, raw), "error_invalid_payload")


@pytest.mark.parametrize("path", [PUSH, QUERY, REVERSAL])
@pytest.mark.parametrize("bearer", ["", "QpoT4w5UQnFAALJZnRSw4OWY8QtR", "x" * 500])
def test_an_unknown_token_is_the_invalid_token_vector(post, path, bearer):
    assert_error_vector(post(path, {}, bearer=bearer or " "), "error_invalid_token")


def test_the_invalid_token_status_can_be_401(post, settings):
    settings.MPESA_EMULATOR_TOKEN_ERROR_STATUS = 401
    response = post(PUSH, {}, bearer="unknown")
    assert response.status_code == 401 and response.json()["errorCode"] == "404.001.03"


def test_transaction_status_uses_its_own_token_error_code(post):
    response = post(STATUS, {}, bearer="unknown")
    assert response.status_code == 400 and response.json()["errorMessage"] == "Invalid Access Token"
    assert response.json()["errorCode"] == "400.003.01"


def test_an_unknown_daraja_path_is_the_resource_not_found_vector(client):
    assert_error_vector(
        client.post("/daraja/mpesa/b2b/v9/nothing", data="{}", content_type="application/json"),
        "error_resource_not_found",
    )


def test_a_get_on_a_post_api_is_405(client, token):
    response = client.get(PUSH, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 405 and response.json()["errorCode"] == "405.001"


def test_strict_mode_wants_https_and_the_documented_lengths(post, settings):
    assert post(PUSH, for_phone("254711000001", "http://127.0.0.1:9/cb")).status_code == 200
    settings.MPESA_EMULATOR_STRICT = True
    assert_error_vector(
        post(PUSH, for_phone("254711000002", "http://127.0.0.1:9/cb")), "stk_push_error_invalid_callbackurl"
    )
    long_reference = for_phone("254711000003", CALLBACK, AccountReference="BK26112000421")
    assert post(PUSH, long_reference).json()["errorMessage"] == "Bad Request - Invalid AccountReference"
    long_desc = for_phone("254711000004", CALLBACK, TransactionDesc="Booking 000042")
    assert post(PUSH, long_desc).json()["errorMessage"] == "Bad Request - Invalid Remarks"


def test_a_missing_transaction_desc_is_invalid_remarks(post):
    body = push_request(CallBackURL=CALLBACK)
    del body["TransactionDesc"]
    response = post(PUSH, body)
    assert response.status_code == 400 and response.json()["errorMessage"] == "Bad Request - Invalid Remarks"


def test_numbers_may_come_as_strings(post):
    body = push_request(
        CallBackURL=CALLBACK,
        BusinessShortCode="174379",
        Amount="4500",
        PartyA="254708374149",
        PartyB="174379",
        PhoneNumber="254708374149",
    )
    stamp = body["Timestamp"]
    body["Password"] = stk_password(shortcode="174379", passkey=SANDBOX_PASSKEY, timestamp=stamp)
    assert post(PUSH, body).status_code == 200


# -- STK push: the accepted answer and its ids --------------------------------------------------------------------


def test_an_accepted_push_has_the_vector_shape_and_daraja_ids(post):
    with time_machine.travel(datetime.datetime(2026, 11, 20, 11, 5, 13, 482000, tzinfo=datetime.UTC), tick=False):
        response = post(PUSH, push_request(CallBackURL=CALLBACK))
    assert response.status_code == 200
    body = response.json()
    expected = vector("stk_push_response_ok")
    assert_same_shape(body, expected)
    for key in ("ResponseCode", "ResponseDescription", "CustomerMessage"):
        assert body[key] == expected[key]
    assert MERCHANT_REQUEST_ID_RE.match(body["MerchantRequestID"])
    # 11:05:13.482 UTC is 14:05:13 in Nairobi: the same id as the vector's
    assert body["CheckoutRequestID"] == "ws_CO_20112026140513482708374149"
    push = StkPush.objects.get()
    assert (push.amount_kes, push.phone, push.account_reference) == (4500, "254708374149", "BK2611200042")


def test_ids_of_many_pushes_are_unique_and_well_formed(post):
    checkout_ids = set()
    for n in range(30):
        phone = f"2547110{n:05d}"
        body = post(PUSH, for_phone(phone, CALLBACK)).json()
        match = CHECKOUT_REQUEST_ID_RE.match(body["CheckoutRequestID"])
        assert match and match["national"] == phone[3:]
        assert MERCHANT_REQUEST_ID_RE.match(body["MerchantRequestID"])
        checkout_ids.add(body["CheckoutRequestID"])
    assert len(checkout_ids) == 30


@pytest.mark.parametrize(
    ("moment", "prefix"),
    [
        (datetime.datetime(2023, 12, 10, 9, 0, tzinfo=datetime.UTC), "RLA"),
        (datetime.datetime(2026, 10, 2, 9, 0, tzinfo=datetime.UTC), "UJ2"),
        (datetime.datetime(2026, 11, 20, 11, 5, tzinfo=datetime.UTC), "UKK"),
        (datetime.datetime(2026, 12, 31, 21, 30, tzinfo=datetime.UTC), "VA1"),  # already 1 January in Nairobi
        (datetime.datetime(2026, 1, 31, 12, 0, tzinfo=datetime.UTC), "UAV"),
    ],
)
def test_receipts_encode_the_nairobi_date(moment, prefix):
    receipt = ids.receipt_number(moment)
    assert receipt.startswith(prefix) and len(receipt) == 10 and receipt.isupper() or receipt[3:].isdigit()
    assert ids.placeholder_receipt(moment) == prefix + "0000000"


def test_receipts_are_unique():
    now = datetime.datetime.now(tz=datetime.UTC)
    receipts = {services._unique_receipt(now) for _ in range(2000)}
    assert len(receipts) == 2000


# -- STK query --------------------------------------------------------------------------------------------------


def _push(post, phone="254708374149") -> str:
    return post(PUSH, for_phone(phone, CALLBACK)).json()["CheckoutRequestID"]


def test_an_unknown_checkout_id_is_the_not_found_vector_with_the_id_as_request_id(post):
    response = post(QUERY, query_request("ws_CO_20112026999999999708374149"))
    assert_error_vector(response, "stk_query_error_not_found", request_id_re=CHECKOUT_REQUEST_ID_RE)
    assert response.json()["requestId"] == "ws_CO_20112026999999999708374149"


def test_a_query_within_a_second_of_the_push_is_not_found_yet(post, settings):
    settings.MPESA_EMULATOR_QUERY_NOT_FOUND_SECONDS = 1
    checkout_request_id = _push(post)
    assert_error_vector(
        post(QUERY, query_request(checkout_request_id)),
        "stk_query_error_not_found",
        request_id_re=CHECKOUT_REQUEST_ID_RE,
    )
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=2)):
        assert post(QUERY, query_request(checkout_request_id)).json()["ResultCode"] == "4999"


def test_a_pending_push_answers_4999(post):
    checkout_request_id = _push(post)
    body = post(QUERY, query_request(checkout_request_id)).json()
    expected = vector("stk_query_response_processing_4999")
    assert_same_shape(body, expected)
    for key in ("ResponseCode", "ResponseDescription", "ResultCode", "ResultDesc"):
        assert body[key] == expected[key]


def test_the_legacy_pending_answer_is_the_pending_error_vector(post, settings):
    settings.MPESA_EMULATOR_LEGACY_PENDING = True
    checkout_request_id = _push(post)
    response = post(QUERY, query_request(checkout_request_id))
    assert_error_vector(response, "stk_query_pending_error", request_id_re=CHECKOUT_REQUEST_ID_RE)
    assert response.json()["requestId"] == checkout_request_id


@pytest.mark.parametrize(
    ("phone", "vector_name"),
    [
        ("254700000001", "stk_query_response_ok"),
        ("254700000003", "stk_query_response_cancelled_1032"),
        ("254700000004", "stk_query_response_timeout_1037"),
    ],
)
def test_a_settled_push_answers_like_the_query_vectors(post, settings, phone, vector_name):
    checkout_request_id = _push(post, phone)
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=120)):
        response = post(QUERY, query_request(checkout_request_id))
    assert response.status_code == 200
    body = response.json()
    expected = vector(vector_name)
    assert_same_shape(body, expected)
    for key in ("ResponseCode", "ResponseDescription", "ResultCode", "ResultDesc"):
        assert body[key] == expected[key]
    assert isinstance(body["ResultCode"], str) and body["CheckoutRequestID"] == checkout_request_id


def test_a_query_with_a_wrong_password_is_the_wrong_credentials_vector(post):
    checkout_request_id = _push(post)
    response = post(QUERY, query_request(checkout_request_id, Password="d3Jvbmc="))
    assert_error_vector(response, "stk_push_error_wrong_credentials")


def test_a_query_with_a_bad_timestamp_is_the_invalid_timestamp_vector(post):
    response = post(QUERY, query_request("ws_CO_20112026140513482708374149", Timestamp="yesterday"))
    assert_error_vector(response, "stk_push_error_invalid_timestamp")


# -- the number table and the hooks (outcomes are decided when a push settles) -----------------------------------


def _settle_all_after(seconds: float):
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=seconds)):
        services._settle_overdue(StkPush.objects.all())


@pytest.mark.parametrize(
    ("phone", "code", "callbacks"),
    [
        ("254700000001", "0", 1),
        ("254700000002", "1", 1),
        ("254700000003", "1032", 1),
        ("254700000004", "1037", 1),
        ("254700000005", "0", 0),
        ("254700000006", "0", 3),
        ("254700000007", "0", 1),
        ("254711222333", "0", 1),
    ],
)
def test_the_number_table(post, phone, code, callbacks):
    checkout_request_id = _push(post, phone)
    _settle_all_after(300)
    push = StkPush.objects.get(checkout_request_id=checkout_request_id)
    assert (push.result_code, push.deliveries.count()) == (code, callbacks)
    assert (push.receipt is not None) == (code == "0")


def test_the_late_number_settles_first_and_calls_back_minutes_later(post, settings):
    settings.MPESA_EMULATOR_CALLBACK_DELAY_SECONDS = 2
    checkout_request_id = _push(post, "254700000007")
    _settle_all_after(5)
    push = StkPush.objects.get(checkout_request_id=checkout_request_id)
    delivery = push.deliveries.get()
    assert push.result_code == "0"
    assert delivery.due_at - push.created_at == datetime.timedelta(seconds=180)


def test_a_hook_outcome_for_a_pending_push(client, post):
    checkout_request_id = _push(post, "254711222333")
    url = f"/daraja/__emulator/stk/{checkout_request_id}/outcome"
    response = client.post(
        url, data={"ResultCode": 2001, "delay_s": 0, "callbacks": 2}, content_type="application/json"
    )
    assert response.status_code == 200
    _settle_all_after(1)
    push = StkPush.objects.get()
    assert (push.result_code, push.result_desc, push.deliveries.count()) == (
        "2001",
        "The initiator information is invalid.",
        2,
    )
    body = json.loads(push.deliveries.first().body)
    assert_same_shape(body, vector("stk_callback_wrong_pin_2001"))


def test_a_hook_outcome_for_the_next_push_to_a_number(client, post):
    response = client.post(
        "/daraja/__emulator/phone/254711222333/outcome",
        data={"ResultCode": "SFC_IC0003"},
        content_type="application/json",
    )
    assert response.status_code == 201
    _push(post, "254711222333")
    _settle_all_after(120)
    push = StkPush.objects.get()
    body = json.loads(push.deliveries.get().body)
    assert body == {
        "Body": {
            "stkCallback": {
                "MerchantRequestID": push.merchant_request_id,
                "CheckoutRequestID": push.checkout_request_id,
                "ResultCode": "SFC_IC0003",
                "ResultDesc": "The operator does not exist.",
            }
        }
    }


def test_a_hook_can_make_any_number_wait_for_the_virtual_phone(client, post):
    response = client.post(
        "/daraja/__emulator/phone/254711222333/outcome", data={"wait_for_phone": True}, content_type="application/json"
    )
    assert response.status_code == 201
    checkout_request_id = _push(post, "254711222333")
    _settle_all_after(60)
    assert StkPush.objects.get().status == "pending"
    page = client.get("/daraja/phone/?number=0711222333")
    assert checkout_request_id.encode() in page.content
    response = client.post(f"/daraja/phone/{checkout_request_id}/approve/", {"pin": "0000"})
    assert response.status_code == 302 and StkPush.objects.get().result_code == "0"


def test_the_number_table_wins_over_hooks(client, post):
    response = client.post(
        "/daraja/__emulator/phone/254700000001/outcome", data={"ResultCode": 1032}, content_type="application/json"
    )
    assert response.status_code == 409
    checkout_request_id = _push(post, "254700000001")
    response = client.post(
        f"/daraja/__emulator/stk/{checkout_request_id}/outcome", data={"ResultCode": 1}, content_type="application/json"
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ResultCode": 42},
        {"ResultCode": 0, "delay_s": -1},
        {"ResultCode": 0, "delay_s": 1e309},
        {"ResultCode": 0, "callback_delay_s": "1"},
        {"ResultCode": 0, "callbacks": 99},
        {"wait_for_phone": "yes"},
        [1],
        "x",
    ],
)
def test_hooks_refuse_bad_outcomes(client, post, body):
    checkout_request_id = _push(post, "254711222333")
    for url in (
        f"/daraja/__emulator/stk/{checkout_request_id}/outcome",
        "/daraja/__emulator/phone/254711222333/outcome",
    ):
        response = client.post(url, data=json.dumps(body), content_type="application/json")
        assert response.status_code == 400 and "error" in response.json()


def test_hooks_answer_only_on_loopback(client):
    for method, url in [("get", "/daraja/__emulator/"), ("post", "/daraja/__emulator/reset")]:
        response = getattr(client, method)(url, REMOTE_ADDR="203.0.113.9")
        assert response.status_code == 404


def test_the_log_lists_requests_pushes_and_deliveries_and_reset_forgets_them(client, post):
    checkout_request_id = _push(post, "254700000001")
    _settle_all_after(120)
    log = client.get("/daraja/__emulator/").json()
    assert [p["CheckoutRequestID"] for p in log["pushes"]] == [checkout_request_id]
    assert log["deliveries"][0]["status"] == "scheduled" and log["deliveries"][0]["body"]["Body"]["stkCallback"]
    assert [r["path"] for r in log["requests"]] == ["/daraja/oauth/v1/generate?grant_type=client_credentials", PUSH]
    assert '"Amount": 4500' in log["requests"][1]["body"]
    assert client.get(f"/daraja/__emulator/?checkout_request_id={checkout_request_id}").json()["pushes"]
    assert client.post("/daraja/__emulator/reset").status_code == 200
    log = client.get("/daraja/__emulator/").json()
    assert log["pushes"] == log["deliveries"] == [] and not Delivery.objects.exists()


# -- Transaction Status and Reversal: acknowledgements and validation ------------------------------------------


def _paid_receipt(post) -> str:
    _push(post, "254700000001")
    _settle_all_after(120)
    return StkPush.objects.get().receipt


def _reversal(receipt: str, **overrides) -> dict:
    body = vector("reversal_request") | {"TransactionID": receipt, "Amount": "4500", "SecurityCredential": "anything"}
    return body | overrides


def test_reversal_and_status_acknowledge_like_the_vectors(post):
    receipt = _paid_receipt(post)
    for path, body, name in [
        (REVERSAL, _reversal(receipt), "reversal_response_ok"),
        (STATUS, vector("transaction_status_request") | {"TransactionID": receipt}, "transaction_status_response_ok"),
    ]:
        response = post(path, body)
        assert response.status_code == 200, response.content
        answer = response.json()
        assert_same_shape(answer, vector(name))
        assert (answer["ResponseCode"], answer["ResponseDescription"]) == (
            "0",
            "Accept the service request successfully.",
        )
        assert MERCHANT_REQUEST_ID_RE.match(answer["OriginatorConversationID"])
        assert re.match(r"^AG_\d{8}_[0-9a-f]{20}$", answer["ConversationID"])


def test_the_correctly_spelt_receiver_identifier_type_is_refused(post):
    body = _reversal("UKK4H7TQ2M")
    body["ReceiverIdentifierType"] = body.pop("RecieverIdentifierType")
    response = post(REVERSAL, body)
    assert response.status_code == 400
    assert response.json()["errorMessage"] == "Bad Request - Invalid RecieverIdentifierType"


@pytest.mark.parametrize(
    "field", ["Initiator", "SecurityCredential", "CommandID", "TransactionID", "Amount", "ResultURL", "Remarks"]
)
def test_reversal_fields_are_checked(post, field):
    body = _reversal("UKK4H7TQ2M")
    body[field] = ""
    response = post(REVERSAL, body)
    assert response.status_code == 400
    assert response.json() | {"requestId": ""} == {
        "requestId": "",
        "errorCode": "400.002.02",
        "errorMessage": f"Bad Request - Invalid {field}",
    }


# -- routes -----------------------------------------------------------------------------------------------------


def test_the_daraja_routes_exist_only_in_emulator_mode(settings):
    import config.urls

    try:
        for env in ("sandbox", "production"):
            settings.MPESA_ENV = env
            importlib.reload(config.urls)
            clear_url_caches()
            for path in ("/daraja/oauth/v1/generate", "/daraja/phone/", "/daraja/__emulator/"):
                with pytest.raises(Resolver404):
                    resolve(path)
        settings.MPESA_ENV = "emulator"
        importlib.reload(config.urls)
        clear_url_caches()
        assert resolve("/daraja/phone/").url_name == "phone"
    finally:
        settings.MPESA_ENV = "emulator"
        importlib.reload(config.urls)
        clear_url_caches()


# -- hostile input ---------------------------------------------------------------------------------------------

HOSTILE = ["", "\x00", "x" * 10_000, "<script>", "' OR 1=1; --", "😀" * 50, "1e309", "-1", None, True, [], {}, 1e309]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_field_values_never_give_a_server_error(post, value):
    for field in [
        "BusinessShortCode",
        "Password",
        "Timestamp",
        "TransactionType",
        "Amount",
        "PartyA",
        "PartyB",
        "PhoneNumber",
        "CallBackURL",
        "AccountReference",
        "TransactionDesc",
    ]:
        body = push_request(CallBackURL=CALLBACK, PhoneNumber=254711999999, PartyA=254711999999)
        body[field] = value
        raw = json.dumps(body, allow_nan=True)
        response = post(PUSH, raw)
        # 500 is Daraja's own status for merchant errors, always in its envelope; anything else is a crash
        assert response.status_code in {200, 400, 500} and response.json()
        assert response.status_code != 500 or response.json()["errorCode"] == "500.001.1001"
        response = post(QUERY, json.dumps(query_request("x") | {field: value}, allow_nan=True))
        assert response.status_code in {400, 500} and response.json()["errorCode"].startswith(("400.", "500.001"))
        StkPush.objects.all().delete()
    for path in (STATUS, REVERSAL):
        for field in ["TransactionID", "Amount", "ResultURL", "PartyA", "ReceiverParty", "Occasion"]:
            response = post(path, json.dumps(_reversal("UKK4H7TQ2M") | {field: value}, allow_nan=True))
            assert response.status_code in {200, 400} and response.json()


@pytest.mark.parametrize("bad_id", ["ws_CO_%00", "%F0%9F%98%80", "x" * 300, "..%2F..%2Fetc"])
def test_hostile_ids_in_urls_never_give_a_server_error(client, bad_id):
    for url in (f"/daraja/phone/{bad_id}/approve/", f"/daraja/phone/{bad_id}/cancel/"):
        assert client.post(url, {"pin": "1234", "number": "\x00"}).status_code < 500
    hook = f"/daraja/__emulator/stk/{bad_id}/outcome"
    assert client.post(hook, data={"ResultCode": 0}, content_type="application/json").status_code in {404, 409}
    listed = client.get(f"/daraja/__emulator/?checkout_request_id={bad_id}&phone=0%2B").status_code
    # A NUL in a query string is refused before any view (tests/core/test_unstorable_characters.py).
    assert listed == (400 if "%00" in bad_id else 200)
    assert client.get(f"/daraja/__emulator/?checkout_request_id={bad_id}&phone=%00").status_code == 400
    assert client.get(f"/daraja/phone/?number={bad_id}").status_code == (400 if "%00" in bad_id else 422)


# -- the virtual phone's pages -------------------------------------------------------------------------------------


def test_the_phone_page_is_in_our_layout_and_its_fragment_stands_alone(client, post):
    checkout_request_id = _push(post)
    page = client.get("/daraja/phone/")
    assert page.status_code == 200 and b"<html" in page.content and b'id="main"' in page.content
    assert (
        checkout_request_id.encode() in page.content
        and b"KES 4,500" in page.content
        and b"BK2611200042" in page.content
    )
    fragment = client.get("/daraja/phone/", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and b"<html" not in fragment.content
    assert (
        fragment.content.lstrip().startswith(b'<section id="phone-prompts"')
        and b'hx-trigger="every 2s"' in fragment.content
    )
    assert b"<script" not in page.content.split(b"</head>")[1]  # no inline scripts in the body (CSP)


def test_polling_with_nothing_new_answers_204_so_a_half_typed_pin_stays(client, post):
    checkout_request_id = _push(post)
    seen = client.get(f"/daraja/phone/?seen={checkout_request_id}", headers={"HX-Request": "true"})
    assert seen.status_code == 204
    assert client.get("/daraja/phone/?seen=", headers={"HX-Request": "true"}).status_code == 200


def test_the_phone_filters_by_number(client, post):
    checkout_request_id = _push(post)
    assert checkout_request_id.encode() in client.get("/daraja/phone/?number=+254 708 374 149").content
    assert checkout_request_id.encode() not in client.get("/daraja/phone/?number=0712345678").content
    bad = client.get("/daraja/phone/?number=12345")
    assert bad.status_code == 422 and b"Enter a Kenyan mobile number" in bad.content


@pytest.mark.parametrize("pin", ["", "12", "12345", "abcd", "١٢٣٤"])
def test_approving_needs_a_4_digit_pin(client, post, pin):
    checkout_request_id = _push(post)
    response = client.post(
        f"/daraja/phone/{checkout_request_id}/approve/", {"pin": pin}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422 and b"Enter a 4-digit M-Pesa PIN." in response.content
    assert StkPush.objects.get().status == "pending"


def test_answering_twice_or_too_late_says_so(client, post, settings):
    checkout_request_id = _push(post)
    assert client.post(f"/daraja/phone/{checkout_request_id}/cancel/").status_code == 302
    again = client.post(
        f"/daraja/phone/{checkout_request_id}/approve/", {"pin": "1234"}, headers={"HX-Request": "true"}
    )
    assert again.status_code == 200 and b"already been answered" in again.content
    assert StkPush.objects.get().result_code == "1032"
    settings.MPESA_EMULATOR_PROMPT_TIMEOUT_SECONDS = 5
    late_id = _push(post)
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=6)):
        late = client.post(f"/daraja/phone/{late_id}/approve/", {"pin": "1234"}, headers={"HX-Request": "true"})
    assert b"timed out" in late.content
    assert StkPush.objects.get(checkout_request_id=late_id).result_code == "1037"


def test_the_phone_page_makes_the_same_queries_for_one_prompt_or_many(client, post):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _push(post)
    with CaptureQueriesContext(connection) as one:
        client.get("/daraja/phone/")
    for n in range(8):
        client.post(
            f"/daraja/__emulator/phone/2547112{n:05d}/outcome",
            data={"wait_for_phone": True},
            content_type="application/json",
        )
        _push(post, f"2547112{n:05d}")
    with CaptureQueriesContext(connection) as many:
        page = client.get("/daraja/phone/")
    assert page.content.count(b"data-prompt=") == 9
    assert len(many.captured_queries) == len(one.captured_queries)


# -- business rules ------------------------------------------------------------------------------------------------


def _outcome_of(post, phone: str, amount: int) -> str:
    _push_amount = post(PUSH, for_phone(phone, CALLBACK, Amount=amount))
    assert _push_amount.status_code == 200, _push_amount.content
    _settle_all_after(300)
    return StkPush.objects.get(checkout_request_id=_push_amount.json()["CheckoutRequestID"]).result_code


def test_more_than_250000_in_one_payment_ends_in_code_3(post):
    assert _outcome_of(post, "254711000001", 250_001) == "3"
    assert _outcome_of(post, "254711000002", 250_000) == "0"


@pytest.mark.parametrize(
    ("amount", "code"), [(4501, "1"), (4532, "1032"), (4537, "1037"), (4519, "1019"), (4521, "2001"), (4500, "0")]
)
def test_amount_rules_are_a_switch(post, settings, amount, code):
    assert _outcome_of(post, "254711000001", amount) == "0"
    settings.MPESA_EMULATOR_AMOUNT_RULES = True
    assert _outcome_of(post, "254711000002", amount) == code


def test_the_rule_limited_switch_refuses_the_same_amount_again_within_two_minutes(post, settings):
    assert _outcome_of(post, "254711000001", 4500) == "0"
    assert _outcome_of(post, "254711000001", 4500) == "0"  # off by default: a retry after a cancel goes through
    settings.MPESA_EMULATOR_RULE_LIMITED = True
    assert _outcome_of(post, "254711000001", 4500) == "17"
    assert _outcome_of(post, "254711000001", 4600) == "0"


@pytest.mark.parametrize(
    "field", ["Initiator", "SecurityCredential", "CommandID", "TransactionID", "PartyA", "IdentifierType", "ResultURL"]
)
def test_transaction_status_fields_are_checked_with_its_own_code(post, field):
    body = vector("transaction_status_request") | {field: ""}
    response = post(STATUS, body)
    assert response.status_code == 400
    assert (response.json()["errorCode"], response.json()["errorMessage"]) == (
        "400.003.02",
        f"Bad Request - Invalid {field}",
    )
