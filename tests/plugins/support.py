"""Fixtures for the support console: the support group, an agent, a lead who approves refunds, a signed-in agent."""

import pytest
from django.contrib.auth.models import Group, Permission

from tests.helpers.support import AGENT_PERMISSIONS, support_user


@pytest.fixture
def support_group(db):
    group, _ = Group.objects.get_or_create(name="support")
    group.permissions.set(Permission.objects.filter(content_type__app_label="mpesa", codename__in=AGENT_PERMISSIONS))
    return group


@pytest.fixture
def agent(make_user):
    return support_user(make_user, email="agent@example.com", full_name="Sam Agent")


@pytest.fixture
def lead(make_user):
    return support_user(make_user, email="lead@example.com", full_name="Linet Lead", approves=True)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client
