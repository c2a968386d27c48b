"""Django's ModelBackend with a signed-in person's permissions read in one query a request and the person read with
a query compiled once (settings AUTHENTICATION_BACKENDS lists it first; Django's own and allauth's stay listed, so
sessions that name them stay signed in; allauth's sign-ins by code name this one, notifications.adapters).

ModelBackend reads a person's own permissions and their groups' in two queries composed through the ORM; this
backend reads the same set in one statement written out, and keeps it where ModelBackend keeps it (the request's
user object, `_perm_cache`), so the backends after it (ModelBackend, allauth's) answer from it without a query of
their own. Nothing outlives the request: a permission withdrawn is refused on the next one, a person made
inactive is signed out on the next one. Signing in, and everything else, is ModelBackend's.

Why: on the support console's search page the two ORM queries cost 13% of the page's CPU in one process
(bench/support_search.py --profile receipt), each console page asks for permissions, and /healthz-relative
throughput is the console's target (issue 21: 0.12 of /healthz; the bench prints the ratio).
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from core.models import User
from core.prepared import PreparedQuery, execute

# The signed-in person, read on every signed-in request (after the session): compiled once per thread.
_USER_BY_ID = PreparedQuery(lambda pk: User._default_manager.filter(pk=pk))


def _permissions_sql(*, superuser: bool) -> str:
    permission, content_type = Permission._meta.db_table, ContentType._meta.db_table
    sql = f"SELECT ct.app_label, p.codename FROM {permission} p JOIN {content_type} ct ON ct.id = p.content_type_id"
    if superuser:  # as ModelBackend: a superuser holds every permission
        return sql
    user_permissions = User.user_permissions.through._meta
    user_groups = User.groups.through._meta
    group_permissions = Group.permissions.through._meta

    def column(meta, name: str) -> str:
        return meta.get_field(name).column

    return f"""{sql}
         WHERE p.id IN (
               SELECT {column(user_permissions, "permission")} FROM {user_permissions.db_table}
                WHERE {column(user_permissions, "user")} = %(user)s
               UNION
               SELECT gp.{column(group_permissions, "permission")}
                 FROM {group_permissions.db_table} gp
                 JOIN {user_groups.db_table} ug
                   ON ug.{column(user_groups, "group")} = gp.{column(group_permissions, "group")}
                WHERE ug.{column(user_groups, "user")} = %(user)s)
    """


class PermissionBackend(ModelBackend):
    """ModelBackend, whose answer to "which permissions does this person hold" (their own and their groups'; all of
    them for a superuser; none for an inactive or anonymous person or for an object) is read in one query."""

    def get_user(self, user_id) -> User | None:
        """ModelBackend's answer (the person, if they may still sign in), read with a query compiled once: the ORM's
        `get()` cost 0.40 ms of CPU and this 0.15 ms in one process (the payment-status poll's signed-in guest)."""
        if not isinstance(user_id, int):  # Django hands over the session's id as the primary key's type
            return super().get_user(user_id)
        rows = _USER_BY_ID.rows(pk=user_id)
        if not rows:
            return None
        return rows[0] if self.user_can_authenticate(rows[0]) else None

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            with connection.cursor() as cursor:
                execute(cursor, _permissions_sql(superuser=user_obj.is_superuser), {"user": user_obj.pk})
                user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in cursor.fetchall()}
        return user_obj._perm_cache
