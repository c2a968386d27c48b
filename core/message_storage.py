"""Django's fallback message storage (a cookie, then the session), its cookie and session storages made when first
needed.

A browser that holds no messages cookie has no stored messages: Django's storage reads the cookie first and stops
there when there is none (CookieStorage._get answers None). This one gives that answer without making the two
storages, whose cookie signer reads settings and imports its class on every request, and nearly every page is shown
to someone with no message waiting. Instructions a request (bench/instructions.py): property page 5.71 -> 5.64 M,
dated search 7.31 -> 7.25 M; bench/demo_pages.py prints their ratios to /healthz. A fragment that reads and adds no
message (the payment-status poll) makes neither storage either, so Django's own middleware serves where ours made an
htmx request's storage lazily (the poll 2.26 M instructions either way). Messages added, stored or read from a cookie
go through Django's storages as before.
"""

from django.contrib.messages.storage.base import BaseStorage
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.fallback import FallbackStorage as DjangoFallbackStorage
from django.utils.functional import cached_property


class FallbackStorage(DjangoFallbackStorage):
    def __init__(self, request, *args, **kwargs):
        BaseStorage.__init__(self, request, *args, **kwargs)
        self._storage_arguments = (request, *args), kwargs
        self._used_storages = set()

    @cached_property
    def storages(self) -> list[BaseStorage]:
        args, kwargs = self._storage_arguments
        return [storage_class(*args, **kwargs) for storage_class in self.storage_classes]

    def _get(self, *args, **kwargs):
        if "storages" not in self.__dict__ and self.storage_classes[0] is CookieStorage:
            if CookieStorage.cookie_name not in self.request.COOKIES:
                return [], True
        return super()._get(*args, **kwargs)
