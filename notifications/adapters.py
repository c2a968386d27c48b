"""allauth's account adapter: every account e-mail (address confirmation, password reset, notices) goes through the
outbox like any other message, and so does every code sent by SMS for phone sign-up and sign-in (allauth's own
phone support: the number is stored on core.User, one verified holder per number)."""

import uuid

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.stages import PhoneVerificationStage as AllauthPhoneVerificationStage
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.forms import MobileField
from core.models import User
from core.phone import normalise_mobile
from core.rate_limits import rate_limit_increment
from core.services import user_phone_set, user_phone_verify
from core.site import absolute_url, current_site, email_sender, email_subject
from notifications.models import Notification
from notifications.outbox import notification_queue
from notifications.rendering import email_html_from_text

DAY_SECONDS = 24 * 60 * 60


class PhoneVerificationStage(AllauthPhoneVerificationStage):
    """allauth's stage, except that an account without any number (the accounts made before phone sign-up, which
    sign in by e-mail) signs in as before; anyone with a number still verifies it before being signed in."""

    def handle(self):
        if self.login.user and not self.login.user.phone:
            return None, True
        return super().handle()


class AccountAdapter(DefaultAccountAdapter):
    def get_from_email(self) -> str:
        return email_sender()

    def format_email_subject(self, subject: str) -> str:
        return email_subject(subject)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render allauth's message now and queue it in the outbox, in the request's transaction: sent once that
        commits. Its body carries a confirmation or reset link or a code, so it is kept secret (never shown, erased
        once sent).

        The greeting names SITE_NAME, and every link in it (confirmation, password reset, sign-up) is on SITE_URL,
        whatever host the request came in on."""
        context = {**context, "current_site": current_site()}
        for key, value in list(context.items()):
            if key.endswith("_url") and isinstance(value, str) and value:
                context[key] = absolute_url(value)
        message = self.render_mail(template_prefix, email, context)
        html_body = ""
        for content, mimetype in getattr(message, "alternatives", []):
            if mimetype == "text/html":
                html_body = content
        # allauth writes plain text: the HTML part in the site's style is made from it.
        html_body = html_body or email_html_from_text(subject=message.subject, text=message.body)
        user = context.get("user")
        notification_queue(
            kind=f"account_{template_prefix.rsplit('/', 1)[-1]}"[:40],
            # Each account e-mail is its own event: the same mail asked for twice is sent twice.
            object_key=f"account-mail:{uuid.uuid4().hex}",
            channel=Notification.Channel.EMAIL,
            address=email,
            recipient=user if isinstance(user, User) and user.pk else None,
            subject=message.subject,
            body=message.body,
            html_body=html_body,
            secret=True,
        )

    def login(self, request, user: User) -> None:
        """A sign-in that no backend authenticated (a code, a new account) names core.permissions.PermissionBackend in
        the session, as a password sign-in does, rather than allauth's backend: both read the person the same way,
        ours with the query compiled once (core/permissions.py says why)."""
        if not hasattr(user, "backend"):
            user.backend = settings.AUTHENTICATION_BACKENDS[0]
        super().login(request, user)

    def get_login_stages(self) -> list[str]:
        stages = super().get_login_stages()
        ours = f"{PhoneVerificationStage.__module__}.{PhoneVerificationStage.__name__}"
        return [ours if path == "allauth.account.stages.PhoneVerificationStage" else path for path in stages]

    # -- phone numbers: stored on core.User as E.164, only a verified number is an identity ------------------------

    def phone_form_field(self, **kwargs) -> MobileField:
        return MobileField(**kwargs)

    def set_phone(self, user: User, phone: str, verified: bool) -> None:
        if verified:
            user_phone_verify(user=user, phone=phone)
        else:
            user_phone_set(user=user, phone=phone)

    def get_phone(self, user: User) -> tuple[str, bool] | None:
        return (user.phone, user.phone_verified) if user.phone else None

    def set_phone_verified(self, user: User, phone: str) -> None:
        user_phone_verify(user=user, phone=phone)

    def get_user_by_phone(self, phone: str) -> User | None:
        """The account that verified this number. An unverified number names nobody: numbers are recycled, and one
        typed at sign-up and never confirmed must not stop its real holder from signing up."""
        try:
            phone = normalise_mobile(phone)
        except ValidationError:
            return None
        return User.objects.filter(phone=phone, phone_verified=True, is_active=True).first()

    # -- codes by SMS ---------------------------------------------------------------------------------------------

    def send_verification_code_sms(self, user: User, phone: str, code: str, **kwargs) -> None:
        """Queue the code in the outbox (secret: never shown on a page, erased once sent), within the daily limits.
        A code for a number the account has not verified yet also shows, in the SMS emulator's virtual inbox, to
        the browser verifying it (it has just signed up, entered the password or signed in); a sign-in code for a
        verified number only to the account, never to whoever typed the number."""
        if not self._sms_code_allowed(phone):
            return
        session_key = None
        if not (user.phone == phone and user.phone_verified):
            session_key = self._session_key()
        notification_queue(
            kind="phone_code",
            object_key=f"phone-code:{uuid.uuid4().hex}",
            channel=Notification.Channel.SMS,
            address=phone,
            recipient=user if user.pk else None,
            body=_("Your Nexus code is {code}. Never share it: Nexus will never ask you for it.").format(code=code),
            secret=True,
            session_key=session_key,
        )

    def send_unknown_account_sms(self, phone: str, **kwargs) -> None:
        """Nothing is sent to a number without an account (no paid SMS to strangers); it is counted against the
        same limits as a real code, so that the limits tell nobody which numbers have accounts."""
        self._sms_code_allowed(phone)

    def send_account_already_exists_sms(self, phone: str) -> None:
        """A sign-up with a number that already has an account: nothing is sent (the page says as little as for a new
        number); counted like a code."""
        self._sms_code_allowed(phone)

    def _sms_code_allowed(self, phone: str) -> bool:
        """Count one code for this number, this client address and the whole site today; False past any limit."""
        limits = [
            (f"phone-codes:number:{phone}", settings.PHONE_CODES_PER_NUMBER_PER_DAY),
            (f"phone-codes:address:{self.get_client_ip(self.request)}", settings.PHONE_CODES_PER_ADDRESS_PER_DAY),
            ("phone-codes:site", settings.PHONE_CODES_PER_DAY),
        ]
        return all(rate_limit_increment(key=key, window_seconds=DAY_SECONDS) <= limit for key, limit in limits)

    def _session_key(self) -> str | None:
        session = getattr(self.request, "session", None)
        if session is None:
            return None
        if not session.session_key:
            session.save()
        return session.session_key
