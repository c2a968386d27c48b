"""The API's callers: anonymous, or signed in through allauth's headless API with an X-Session-Token."""

import json

import pytest
from django.test import Client

from tests.helpers.accounts import DEMO_PASSWORD


class ApiClient:
    """JSON in and out over Django's test client, with an X-Session-Token once signed in."""

    def __init__(self, token: str = ""):
        self.client = Client()
        self.token = token

    def _headers(self, headers: dict | None) -> dict:
        merged = dict(headers or {})
        if self.token:
            merged.setdefault("X-Session-Token", self.token)
        return merged

    def get(self, path: str, params: dict | None = None, headers: dict | None = None):
        return self.client.get(path, params or {}, headers=self._headers(headers))

    def post(self, path: str, body=None, headers: dict | None = None, raw: bytes | str | None = None, **kwargs):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        content_type = kwargs.pop("content_type", "application/json")
        return self.client.post(path, data, content_type=content_type, headers=self._headers(headers), **kwargs)

    def patch(self, path: str, body=None, headers: dict | None = None):
        return self.client.patch(
            path, json.dumps(body or {}), content_type="application/json", headers=self._headers(headers)
        )

    def delete(self, path: str, headers: dict | None = None):
        return self.client.delete(path, headers=self._headers(headers))


def sign_in(email: str, password: str = DEMO_PASSWORD) -> ApiClient:
    """Sign in as an app does: POST /_allauth/app/v1/auth/login, keep meta.session_token."""
    answer = Client().post(
        "/_allauth/app/v1/auth/login",
        json.dumps({"email": email, "password": password}),
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    return ApiClient(token=answer.json()["meta"]["session_token"])


@pytest.fixture
def anonymous():
    return ApiClient()


@pytest.fixture
def api_as():
    return sign_in


def assert_problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert body["status"] == status and body["title"] and "detail" in body
    if code is not None:
        assert body["code"] == code, body
    return body
