"""The account menu's links for hosts and support staff, read in one query; on console pages, read with the
agent's second factor (console_agent)."""

from dataclasses import dataclass

from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from core.models import User
from core.prepared import execute
from listings.models import Listing

CONSOLE_PERMISSION = ("mpesa", "view_transactions")  # what the console's first page asks for


@dataclass(frozen=True)
class AccountMenu:
    hosts: bool  # has listings: "Host dashboard", else "List your place"
    supports: bool  # may open the support console


def _menu_sql() -> str:
    """Written out: the menu is read on every signed-in page, and composing its two EXISTS through the ORM cost
    about a fifth of the console's search page in one process (bench/support_search.py --profile receipt: 20% of
    the page's CPU, about 1.5 ms, against 0.2 ms written out)."""
    user_permissions = User.user_permissions.through._meta
    user_groups = User.groups.through._meta
    group_permissions = Group.permissions.through._meta

    def column(meta, name: str) -> str:
        return meta.get_field(name).column

    return f"""
        SELECT EXISTS (SELECT 1 FROM {Listing._meta.db_table} WHERE {column(Listing._meta, "host")} = %(user)s),
               EXISTS (
                 SELECT 1 FROM {Permission._meta.db_table} p
                   JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id
                  WHERE ct.app_label = %(app_label)s AND p.codename = %(codename)s
                    AND (EXISTS (SELECT 1 FROM {user_permissions.db_table} up
                                  WHERE up.{column(user_permissions, "permission")} = p.id
                                    AND up.{column(user_permissions, "user")} = %(user)s)
                         OR EXISTS (SELECT 1 FROM {group_permissions.db_table} gp
                                      JOIN {user_groups.db_table} ug
                                        ON ug.{column(user_groups, "group")} = gp.{column(group_permissions, "group")}
                                     WHERE gp.{column(group_permissions, "permission")} = p.id
                                       AND ug.{column(user_groups, "user")} = %(user)s)))
    """


def account_menu(user: User) -> AccountMenu:
    """One query: whether `user` has a listing and whether they hold the console's permission (as ModelBackend
    grants it: directly or through a group; a superuser has every permission)."""
    app_label, codename = CONSOLE_PERMISSION
    with connection.cursor() as cursor:
        execute(cursor, _menu_sql(), {"user": user.pk, "app_label": app_label, "codename": codename})
        hosts, supports = cursor.fetchone()
    return AccountMenu(hosts=bool(hosts), supports=bool(supports) or (user.is_active and user.is_superuser))


@dataclass(frozen=True)
class ConsoleAgent:
    second_factor: bool  # has a TOTP authenticator (the console demands one when DEBUG is off)
    menu: AccountMenu


def console_agent(user: User) -> ConsoleAgent:
    """One query for a console page, about the signed-in agent: whether they have set up TOTP, and their account
    menu. Whether they may open the console is their permissions' answer, which the console has read already
    (Django's auth, once a request). Written out for the same reason as the menu: the TOTP check through the ORM
    cost 0.36 ms of CPU in one process, this query 0.1 ms (bench/support_search.py)."""
    authenticator = Authenticator._meta
    with connection.cursor() as cursor:
        execute(
            cursor,
            f"""
            SELECT EXISTS (SELECT 1 FROM {authenticator.db_table}
                            WHERE {authenticator.get_field("user").column} = %(user)s AND type = %(totp)s),
                   EXISTS (SELECT 1 FROM {Listing._meta.db_table}
                            WHERE {Listing._meta.get_field("host").column} = %(user)s)
            """,
            {"user": user.pk, "totp": Authenticator.Type.TOTP.value},
        )
        second_factor, hosts = cursor.fetchone()
    supports = user.has_perm(".".join(CONSOLE_PERMISSION))
    return ConsoleAgent(second_factor=bool(second_factor), menu=AccountMenu(hosts=bool(hosts), supports=supports))
