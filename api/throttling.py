"""The API's call limit, per signed-in user or, for anonymous calls, per address as allauth finds it (through
ALLAUTH_TRUSTED_PROXY_COUNT), counted by the one rate-limit counter in fixed windows of a minute. The booking and
M-Pesa push limits are the services' own."""

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.exceptions import PermissionDenied
from rest_framework.throttling import BaseThrottle

from core.rate_limits import rate_limit_increment, rate_limit_window_left

WINDOW_SECONDS = 60


def caller_address(request) -> str:
    try:
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:
        return "unknown"


class CallerThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        user = request.user
        if user is not None and user.is_authenticated:
            key, limit = f"api:user:{user.pk}", settings.API_CALLS_PER_MINUTE_USER
        else:
            key, limit = f"api:ip:{caller_address(request)}", settings.API_CALLS_PER_MINUTE_ANON
        return rate_limit_increment(key=key, window_seconds=WINDOW_SECONDS) <= limit

    def wait(self) -> float:
        return float(rate_limit_window_left(window_seconds=WINDOW_SECONDS))
