"""The permission backend: the same permissions as Django's ModelBackend, in one query a request, and nothing kept
beyond the request (a permission withdrawn is refused on the next one)."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission

from core.models import User
from core.permissions import PermissionBackend
from tests.helpers.support import with_second_factor

pytestmark = pytest.mark.django_db


def _permission(codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label="mpesa", codename=codename)


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # as each request loads the signed-in person


@pytest.fixture
def people(make_user):
    group = Group.objects.create(name="Permission test group")
    group.permissions.add(_permission("view_transactions"), _permission("export_transactions"))
    direct = make_user(email="direct@example.com")
    direct.user_permissions.add(_permission("query_mpesa"), _permission("view_transactions"))
    grouped = make_user(email="grouped@example.com")
    grouped.groups.add(group)
    both = make_user(email="both@example.com")
    both.groups.add(group)
    both.user_permissions.add(_permission("approve_refund"))
    inactive = make_user(email="inactive@example.com", is_active=False)
    inactive.user_permissions.add(_permission("view_transactions"))
    root = make_user(email="root@example.com", is_superuser=True)
    plain = make_user(email="plain@example.com")
    return [direct, grouped, both, inactive, root, plain]


def test_the_same_permissions_as_django_reads_them(people):
    for person in people:
        ours = PermissionBackend().get_all_permissions(_fresh(person))
        assert ours == ModelBackend().get_all_permissions(_fresh(person)), person.email
    direct, grouped, both, inactive, root, plain = (_fresh(person) for person in people)
    assert PermissionBackend().get_all_permissions(both) == {
        "mpesa.view_transactions",
        "mpesa.export_transactions",
        "mpesa.approve_refund",
    }
    assert inactive.get_all_permissions() == set() and not inactive.has_perm("mpesa.view_transactions")
    assert plain.get_all_permissions() == set() and not plain.has_module_perms("mpesa")
    assert grouped.has_module_perms("mpesa") and not grouped.has_perm("mpesa.query_mpesa")
    assert root.has_perm("mpesa.approve_refund") and "mpesa.approve_refund" in root.get_all_permissions()


def test_one_query_a_request_whatever_is_asked_and_by_which_backend(people, django_assert_num_queries):
    both = _fresh(people[2])
    with django_assert_num_queries(1):
        assert both.has_perm("mpesa.approve_refund") and both.has_perm("mpesa.export_transactions")
        assert not both.has_perm("mpesa.query_mpesa")  # refused by every backend, each reading the same set
        assert both.get_all_permissions() >= {"mpesa.view_transactions"}
        assert both.has_module_perms("mpesa")


def test_a_withdrawn_permission_is_refused_on_the_next_request(client, people):
    grouped = people[1]
    group = grouped.groups.get()
    client.force_login(with_second_factor(grouped))
    assert client.get("/support/").status_code == 200
    group.permissions.remove(_permission("view_transactions"))
    assert client.get("/support/").status_code == 404
    grouped.user_permissions.add(_permission("view_transactions"))
    assert client.get("/support/").status_code == 200
