import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse

from core.models import PhoneVerification, User
from notifications.models import Notification

pytestmark = pytest.mark.django_db

SIGNUP = {
    "full_name": "Baraka Ochieng",
    "phone": "0712 345 678",
    "email": "baraka@example.com",
    "password1": "tembea-mombasa-2026",
    "password2": "tembea-mombasa-2026",
}
PHONE_ONLY = {**SIGNUP, "email": ""}


def _link_in(message) -> str:
    """The path of the account link in an e-mail (the link itself is on SITE_URL, not on the request's host)."""
    return re.search(r"https?://[^/\s]+(/accounts/[^\s]+)", message.body).group(1)


def _code_sent_to(phone: str) -> str:
    """The code in the last SMS queued to this number (read from the outbox before it is sent and erased)."""
    notification = Notification.objects.filter(channel="sms", address=phone, kind="phone_code").latest("pk")
    return re.search(r"\b(\d{6})\b", notification.body).group(1)


def test_sign_up_with_a_mobile_number_alone_then_its_code_signs_in(client):
    response = client.post(reverse("account_signup"), PHONE_ONLY)
    assert response.status_code == 302 and response["Location"] == reverse("account_verify_phone")
    user = User.objects.get(phone="+254712345678")
    assert (user.full_name, user.email, user.phone_verified) == ("Baraka Ochieng", None, False)
    assert not EmailAddress.objects.exists()
    # Not signed in before the code comes back.
    assert client.get(reverse("profile")).status_code == 302

    code = _code_sent_to("+254712345678")
    notification = Notification.objects.get(kind="phone_code")
    assert notification.secret and notification.recipient == user
    assert (
        client.post(reverse("account_verify_phone"), {"code": "000000" if code != "000000" else "111111"}).status_code
        == 200
    )
    response = client.post(reverse("account_verify_phone"), {"code": code})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.phone_verified
    assert PhoneVerification.objects.filter(user=user, phone="+254712345678").count() == 1
    assert client.get(reverse("profile")).status_code == 200


def test_sign_up_takes_another_country_number_in_e164(client):
    response = client.post(reverse("account_signup"), {**PHONE_ONLY, "phone": "+44 7700 900123"})
    assert response.status_code == 302
    assert User.objects.get().phone == "+447700900123"


@pytest.mark.parametrize("phone", ["", "07123", "020 1234567", "+254 20 1234567", "7700 900123", "not a number"])
def test_sign_up_refuses_a_missing_or_unusable_number(client, phone):
    response = client.post(reverse("account_signup"), {**SIGNUP, "phone": phone})
    assert response.status_code == 200
    assert response.context["form"].errors["phone"]
    assert not User.objects.exists() and not Notification.objects.exists()


def test_sign_up_with_number_and_address_verifies_the_number_then_mails_a_link(
    client, django_capture_on_commit_callbacks
):
    client.post(reverse("account_signup"), SIGNUP)
    user = User.objects.get(email="baraka@example.com")
    assert user.phone == "+254712345678"
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("account_verify_phone"), {"code": _code_sent_to("+254712345678")})
    assert response.status_code == 302
    # Signed in (e-mail verification is optional), the address not verified until its link is opened.
    assert client.get(reverse("profile")).status_code == 200
    address = EmailAddress.objects.get(user=user)
    assert not address.verified
    confirmation = Notification.objects.get(channel="email", address="baraka@example.com")
    confirm_url = re.search(r"https?://[^/\s]+(/accounts/[^\s]+)", confirmation.body).group(1)
    assert client.post(confirm_url).status_code == 302
    address.refresh_from_db()
    assert address.verified


def test_sign_in_by_number_and_password(client, make_phone_user):
    make_phone_user(phone="+254712345678")
    response = client.post(reverse("account_login"), {"login": "0712 345 678", "password": "nexus-demo"})
    assert response.status_code == 302
    assert client.get(reverse("profile")).status_code == 200


def test_an_unverified_number_signs_nobody_in(client, make_phone_user):
    make_phone_user(phone="+254712345678", verified=False)
    response = client.post(reverse("account_login"), {"login": "0712345678", "password": "nexus-demo"})
    assert response.status_code == 200
    assert client.get(reverse("profile")).status_code == 302


def test_sign_in_by_a_code_sent_by_sms(client, make_phone_user):
    user = make_phone_user(phone="+254712345678")
    response = client.post(reverse("account_request_login_code"), {"phone": "+254 712 345 678"})
    assert response.status_code == 302 and response["Location"] == reverse("account_confirm_login_code")
    page = client.get(response["Location"]).content.decode()
    assert "If this number has an account, a code is on its way to 0712 345 678." in page
    notification = Notification.objects.get(kind="phone_code")
    # A sign-in code for a verified number shows to the account only, not to the browser that typed the number.
    assert notification.recipient == user and notification.audience_session == ""
    response = client.post(reverse("account_confirm_login_code"), {"code": _code_sent_to("+254712345678")})
    assert response.status_code == 302
    assert client.get(reverse("profile")).status_code == 200


def test_a_code_for_a_number_without_an_account_sends_nothing_and_says_the_same(client, make_phone_user):
    make_phone_user(phone="+254712345678", verified=False)
    response = client.post(reverse("account_request_login_code"), {"phone": "0712345678"})
    assert response.status_code == 302 and response["Location"] == reverse("account_confirm_login_code")
    assert "If this number has an account, a code is on its way" in client.get(response["Location"]).content.decode()
    assert not Notification.objects.exists()


def test_sign_up_with_a_taken_number_reveals_nothing_and_texts_nobody(client, make_phone_user):
    make_phone_user(phone="+254712345678")
    taken = client.post(reverse("account_signup"), PHONE_ONLY)
    fresh = type(client)().post(reverse("account_signup"), {**PHONE_ONLY, "phone": "0722 000 111"})
    assert taken.status_code == fresh.status_code == 302
    assert taken["Location"] == fresh["Location"]
    assert User.objects.filter(phone="+254712345678").count() == 1
    assert list(Notification.objects.values_list("address", flat=True)) == ["+254722000111"]


def test_sign_up_with_a_taken_address_looks_like_any_sign_up_and_makes_no_account(client, make_user):
    owner = make_user(email="baraka@example.com")
    taken = client.post(reverse("account_signup"), {**SIGNUP, "email": "Baraka@Example.com"})
    fresh = type(client)().post(
        reverse("account_signup"), {**SIGNUP, "email": "new-person@example.com", "phone": "0722 000 111"}
    )
    assert taken.status_code == fresh.status_code == 302
    assert taken["Location"] == fresh["Location"] == reverse("account_verify_phone")
    assert User.objects.filter(email__iexact="baraka@example.com").count() == 1
    assert not User.objects.filter(phone="+254712345678", email="baraka@example.com").exists()
    # The address's owner is told by e-mail; the number typed with it gets no text (it has no account).
    told = Notification.objects.get(address="baraka@example.com")
    assert told.kind == "account_account_already_exists" and told.recipient is None and owner.email in told.address
    assert not Notification.objects.filter(address="+254712345678").exists()


def test_codes_per_number_stop_at_the_daily_limit_with_or_without_an_account(client, settings, make_phone_user):
    settings.PHONE_CODES_PER_NUMBER_PER_DAY = 2
    settings.ACCOUNT_RATE_LIMITS = False  # allauth's own per-minute limits are not what this test is about
    make_phone_user(phone="+254712345678")
    for number in ["0712345678", "0733111222"]:  # with an account, without
        for _ in range(3):
            response = type(client)().post(reverse("account_request_login_code"), {"phone": number})
            assert response.status_code == 302
    assert Notification.objects.filter(address="+254712345678").count() == 2
    assert not Notification.objects.filter(address="+254733111222").exists()


def test_codes_per_client_address_stop_at_the_daily_limit(client, settings, make_phone_user):
    settings.PHONE_CODES_PER_ADDRESS_PER_DAY = 2
    settings.ACCOUNT_RATE_LIMITS = False
    for n in range(3):
        make_phone_user(phone=f"+25471234567{n}", email=f"p{n}@example.com")
        type(client)().post(reverse("account_request_login_code"), {"phone": f"071234567{n}"})
    assert Notification.objects.filter(kind="phone_code").count() == 2


def test_sign_up_is_rate_limited_and_still_answers_as_usual(client, settings):
    settings.PHONE_CODES_PER_DAY = 0
    response = client.post(reverse("account_signup"), PHONE_ONLY)
    assert response.status_code == 302
    assert not Notification.objects.exists()


def test_demo_style_account_without_a_number_still_signs_in_by_e_mail(client, user):
    response = client.post(reverse("account_login"), {"login": user.email, "password": "nexus-demo"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get(reverse("profile")).status_code == 200


def test_unverified_e_mail_account_signs_in_and_is_reminded(client, make_user):
    account = User.objects.create_user(email="wanjiru@example.com", password="nexus-demo")
    EmailAddress.objects.create(user=account, email=account.email, verified=False, primary=True)
    response = client.post(reverse("account_login"), {"login": account.email, "password": "nexus-demo"})
    assert response.status_code == 302
    assert client.get(reverse("profile")).status_code == 200


def test_e_mail_is_unique_when_present_and_absent_for_many(make_phone_user):
    make_phone_user(phone="+254712345670")
    make_phone_user(phone="+254712345671", email="")
    assert User.objects.filter(email__isnull=True).count() == 2
    User.objects.create_user(email="same@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email="same@example.com")


def test_a_number_is_verified_by_one_account_at_a_time(make_phone_user):
    old = make_phone_user(phone="+254712345678", mpesa_phone="254712345678")
    new = make_phone_user(phone="+254712345678", full_name="Wanjiku")
    old.refresh_from_db()
    assert (old.phone, old.phone_verified, old.mpesa_phone) == ("", False, "")
    assert (new.phone, new.phone_verified) == ("+254712345678", True)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=old.pk).update(phone="+254712345678", phone_verified=True)


def test_wrong_password_gives_a_clear_message_and_keeps_the_email(client, user):
    response = client.post(reverse("account_login"), {"login": user.email, "password": "wrong-password"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in html
    assert f'value="{user.email}"' in html


def test_sign_in_and_sign_out(client, user):
    response = client.post(reverse("account_login"), {"login": user.email.upper(), "password": "nexus-demo"})
    assert response.status_code == 302
    assert client.get(reverse("profile")).status_code == 200
    client.post(reverse("account_logout"))
    assert client.get(reverse("profile")).status_code == 302


@pytest.mark.parametrize(
    "next_url", ["//evil.example", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_next_pointing_off_site_stays_on_our_site(client, user, next_url):
    response = client.post(reverse("account_login"), {"login": user.email, "password": "nexus-demo", "next": next_url})
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location


def test_next_on_our_site_is_followed(client, user):
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": "nexus-demo", "next": "/accounts/profile/"}
    )
    assert response["Location"] == "/accounts/profile/"


def test_password_reset_by_e_mailed_link(client, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    reset_url = _link_in(mail.outbox[0])
    form_url = client.get(reset_url)["Location"]  # allauth moves the key out of the URL
    response = client.post(form_url, {"password1": "a-new-safari-pass", "password2": "a-new-safari-pass"})
    assert response.status_code == 302
    assert client.login(email=user.email, password="a-new-safari-pass")


def test_password_reset_for_an_unknown_address_looks_the_same(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_done")


def test_repeated_failed_sign_ins_are_refused(client, user):
    for _ in range(5):
        client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})
    response = client.post(reverse("account_login"), {"login": user.email, "password": "nexus-demo"})
    assert "Too many failed login attempts" in response.content.decode()
    assert client.get(reverse("profile")).status_code == 302


@pytest.mark.parametrize(
    "url_name",
    [
        "account_login",
        "account_signup",
        "account_reset_password",
        "account_reset_password_done",
        "account_email_verification_sent",
    ],
)
def test_account_pages_use_our_layout(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="htmx-config"' in html and "Stays across Kenya" in html


@pytest.mark.parametrize("url_name", ["account_email", "account_change_password", "account_logout", "profile"])
def test_signed_in_account_pages_use_our_layout(client, user, url_name):
    client.force_login(user)
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert "Stays across Kenya" in response.content.decode()


def test_account_e_mails_name_the_site_and_link_to_site_url(client, user, settings, django_capture_on_commit_callbacks):
    settings.SITE_NAME = "Safari Stays"
    settings.SITE_URL = "https://stays.example"
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_email"), {"action_add": "", "email": "baraka@example.com"})
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": user.email})
    assert [message.to for message in mail.outbox] == [["baraka@example.com"], [user.email]]
    for message in mail.outbox:
        assert "Hello from Safari Stays!" in message.body
        assert "Hello from !" not in message.body
        links = re.findall(r"https?://[^\s]+", message.body)
        assert links and all(link.startswith("https://stays.example/accounts/") for link in links), links
        assert "testserver" not in message.body
    assert re.search(r"https://stays.example/accounts/confirm-email/\S+", mail.outbox[0].body)
    assert re.search(r"https://stays.example/accounts/password/reset/key/\S+", mail.outbox[1].body)


def test_a_code_request_without_number_or_address_is_a_form_error(client):
    response = client.post(reverse("account_request_login_code"), {"phone": "", "email": ""})
    assert response.status_code == 200
    assert "Enter your mobile number or your e-mail address." in response.content.decode()


def test_the_profile_says_how_the_person_signs_in(client, user, make_phone_user):
    client.force_login(user)
    html = client.get(reverse("profile")).content.decode()
    assert "Add a mobile number" in html and "amina@example.com" in html and "· verified" in html
    phone_only = make_phone_user(phone="+254712345678")
    client.force_login(phone_only)
    html = client.get(reverse("profile")).content.decode()
    assert 'Signed in as <span class="font-medium">0712 345 678</span>' in html
    assert '<span class="font-medium">0712 345 678</span>' in html.split("data-mobile-number")[1]
    assert "Add an e-mail address" in html and "Change it" in html


def _sign_in(client, login: str) -> None:
    response = client.post(reverse("account_login"), {"login": login, "password": "nexus-demo"})
    assert response.status_code == 302


def test_an_e_mail_account_adds_a_number_and_verifies_it_by_code(client, user):
    _sign_in(client, user.email)
    response = client.post(reverse("account_change_phone"), {"phone": "0712 345 678"})
    assert response.status_code == 302 and response["Location"] == reverse("account_verify_phone")
    user.refresh_from_db()
    assert not user.phone_verified
    notification = Notification.objects.get(kind="phone_code")
    # Not yet this account's number: the code shows to the account and to the browser verifying it.
    assert notification.recipient == user and notification.audience_session
    response = client.post(reverse("account_verify_phone"), {"code": _code_sent_to("+254712345678")})
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.phone, user.phone_verified) == ("+254712345678", True)


def test_a_phone_account_adds_an_e_mail_address_verified_by_link(client, make_phone_user):
    person = make_phone_user(phone="+254712345678")
    _sign_in(client, "0712345678")
    response = client.post(reverse("account_email"), {"action_add": "", "email": "baraka@example.com"})
    assert response.status_code == 302
    address = EmailAddress.objects.get(user=person)
    assert address.email == "baraka@example.com" and not address.verified
    confirmation = Notification.objects.get(channel="email", address="baraka@example.com")
    assert client.post(re.search(r"https?://[^/\s]+(/accounts/[^\s]+)", confirmation.body).group(1)).status_code == 302
    address.refresh_from_db()
    person.refresh_from_db()
    assert address.verified and person.email == "baraka@example.com"


def test_a_second_sign_up_with_the_same_number_at_once_is_told_to_wait(client):
    assert client.post(reverse("account_signup"), PHONE_ONLY).status_code == 302
    response = type(client)().post(reverse("account_signup"), {**PHONE_ONLY, "full_name": "Someone Else"})
    assert response.status_code == 429
    assert "Too many tries for now" in response.content.decode()


def test_a_code_never_shows_in_the_support_console_or_the_admin(client, agent, make_user, support_group):
    client.post(reverse("account_signup"), PHONE_ONLY)
    code = _code_sent_to("+254712345678")
    notification = Notification.objects.get(kind="phone_code")
    staff = type(client)()
    staff.force_login(agent)
    for query in ["0712345678", "+254712345678", "Baraka"]:
        html = staff.get(reverse("support:home"), {"q": query}).content.decode()
        assert code not in html
    admin = make_user(email="root@example.com", is_staff=True, is_superuser=True)
    staff.force_login(admin)
    page = staff.get(reverse("admin:notifications_notification_change", args=[notification.pk]))
    assert page.status_code == 200 and code not in page.content.decode()
