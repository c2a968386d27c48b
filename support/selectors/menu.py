"""The account menu's links for hosts and support staff, read in one query."""

from dataclasses import dataclass

from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, Q

from core.models import User
from listings.models import Listing

CONSOLE_PERMISSION = ("mpesa", "view_transactions")  # what the console's first page asks for


@dataclass(frozen=True)
class AccountMenu:
    hosts: bool  # has listings: "Host dashboard", else "List your place"
    supports: bool  # may open the support console


def account_menu(user: User) -> AccountMenu:
    """One query: whether `user` has a listing and whether they hold the console's permission (as ModelBackend
    grants it: directly or through a group; a superuser has every permission)."""
    app_label, codename = CONSOLE_PERMISSION
    granted = Permission.objects.filter(
        Q(user=OuterRef("pk")) | Q(group__user=OuterRef("pk")), content_type__app_label=app_label, codename=codename
    )
    hosts, supports = (
        User.objects.filter(pk=user.pk)
        .values_list(Exists(Listing.objects.filter(host=OuterRef("pk"))), Exists(granted))
        .get()
    )
    return AccountMenu(hosts=hosts, supports=supports or (user.is_active and user.is_superuser))
