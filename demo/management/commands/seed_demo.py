from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.models import User
from demo.bookings import DEMO_BOOKINGS, seed_bookings
from demo.listings import DEMO_LISTINGS, OTHER_HOSTS, seed_listings
from demo.reviews import seed_reviews

DEMO_PASSWORD = "nexus-demo"
DEMO_ACCOUNTS = [
    ("guest@nexus.test", "Grace Wanjiku", "254708374149", []),
    ("host@nexus.test", "Hassan Otieno", "254712345678", []),
    ("support@nexus.test", "Sam Mwangi", "", ["support"]),
    ("lead@nexus.test", "Linet Achieng", "", ["support", "approves refunds", "moderates content"]),
]
# The support group has every permission of the console (those mpesa.SupportAction declares) but approving refunds,
# which is the lead's alone.
CONSOLE_PERMISSIONS = {"content_type__app_label": "mpesa", "content_type__model": "supportaction"}
APPROVE_REFUND = "approve_refund"
# Hiding reviews and unpublishing reported listings (/support/reports/): the lead's.
MODERATE_CONTENT = {"content_type__app_label": "reviews", "codename": "moderate_content"}


class Command(BaseCommand):
    help = "Create the demo accounts and demo listings with photos and calendars. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even when DJANGO_DEBUG is off.")

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with a published password; with DJANGO_DEBUG off, pass --force."
            )
        with transaction.atomic():
            support_group, _ = Group.objects.get_or_create(name="support")
            console = Permission.objects.filter(**CONSOLE_PERMISSIONS)
            support_group.permissions.add(*console.exclude(codename=APPROVE_REFUND))
            approve = console.get(codename=APPROVE_REFUND)
            for email, full_name, phone, groups in DEMO_ACCOUNTS:
                user = self._ensure_user(email=email, full_name=full_name, phone=phone)
                if "support" in groups:
                    user.groups.add(support_group)
                if "approves refunds" in groups:
                    user.user_permissions.add(approve)
                if "moderates content" in groups:
                    user.user_permissions.add(Permission.objects.get(**MODERATE_CONTENT))
            hosts = {
                email: self._ensure_host(email=email, full_name=name, phone=phone) for email, name, phone in OTHER_HOSTS
            }
            hosts["host@nexus.test"] = User.objects.get(email="host@nexus.test")
        created = seed_listings(hosts=hosts)
        bookings = seed_bookings()
        reviews = seed_reviews()
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password: {DEMO_PASSWORD}):"))
        for email, _name, _phone, groups in DEMO_ACCOUNTS:
            role = ", ".join(groups) or ("host" if email.startswith("host") else "guest")
            self.stdout.write(f"  {email:<22} {role}")
        others = ", ".join(email for email, _name, _phone in OTHER_HOSTS)
        self.stdout.write(f"  and more hosts: {others}")
        self.stdout.write(f"Demo listings: {created} created, {len(DEMO_LISTINGS)} in the demo set.")
        self.stdout.write(f"Demo bookings: {bookings} created, {len(DEMO_BOOKINGS)} in the demo set.")
        self.stdout.write(f"Demo reviews: {reviews} created (past paid stays, both sides).")

    def _ensure_user(self, *, email: str, full_name: str, phone: str) -> User:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=full_name, mpesa_phone=phone)
        else:
            user.full_name = full_name
            user.mpesa_phone = phone
            user.is_active = True
            user.set_password(DEMO_PASSWORD)
            user.save()
        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        return user

    def _ensure_host(self, *, email: str, full_name: str, phone: str) -> User:
        """Another demo host, created once: unlike the three demo accounts it is not reset on every run."""
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = self._ensure_user(email=email, full_name=full_name, phone=phone)
        return user
