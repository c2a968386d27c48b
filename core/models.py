import secrets

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser needs is_staff and is_superuser.")
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, email: str):
        return self.get(email__iexact=email)


def new_public_id() -> str:
    """A random, stable slug that names a host in public URLs instead of the user id."""
    return secrets.token_urlsafe(9).replace("_", "x").replace("-", "k").lower()


class User(AbstractBaseUser, PermissionsMixin):
    """A person with an account. Signs in by e-mail address or by mobile number (allauth's phone support)."""

    # Optional since sign-up by mobile number: NULL when absent, so that only addresses present are unique.
    email = models.EmailField(_("e-mail address"), unique=True, null=True, blank=True)
    # E.164 (+2547XXXXXXXX, or another country's +<code><number>), from core.phone.normalise_mobile. Numbers are
    # recycled: only a verified number is an identity (unique among verified numbers, see Meta).
    phone = models.CharField(_("mobile number"), max_length=16, blank=True)
    phone_verified = models.BooleanField(_("mobile number verified"), default=False)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    mpesa_phone = models.CharField(
        _("M-Pesa phone number"),
        max_length=12,
        blank=True,
        help_text=_("Stored as 2547XXXXXXXX or 2541XXXXXXXX."),
    )
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                fields=["phone"], condition=models.Q(phone_verified=True), name="user_verified_phone_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name()

    def save(self, *args, **kwargs):
        # allauth and forms hand over "" for an absent address; stored as NULL so that it is not a duplicate.
        if not self.email:
            self.email = None
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.full_name or self.email or self.phone

    def get_short_name(self) -> str:
        return (self.full_name.split() or [self.email or self.phone])[0]


class PhoneVerification(models.Model):
    """One account proved it held a mobile number at that moment (a code sent by SMS was entered). Kenyan numbers
    are recycled: guest rows typed with a number are linked only to bookings made after anyone else last verified
    it. Written only by core.services.user_phone_verify."""

    phone = models.CharField(max_length=16)
    user = models.ForeignKey("User", on_delete=models.CASCADE, related_name="phone_verifications")
    verified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["phone", "verified_at"], name="phone_verification_latest")]

    def __str__(self) -> str:
        return f"{self.phone} by {self.user_id} at {self.verified_at:%Y-%m-%d %H:%M}"


class RateLimitCounter(models.Model):
    """How often one thing happened in one fixed window. Written only by core.rate_limits.rate_limit_increment."""

    key = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="rate_limit_key_window")]
        indexes = [models.Index(fields=["window_end"], name="rate_limit_window_end")]

    def __str__(self) -> str:
        return f"{self.key} from {self.window_start:%Y-%m-%d %H:%M:%S}: {self.hits}"
