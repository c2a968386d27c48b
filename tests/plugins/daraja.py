"""The fake Daraja the console's requests meet in tests that do not run the emulator."""

import pytest

from tests.daraja import FakeDaraja, use_fake_daraja


@pytest.fixture
def daraja(monkeypatch):
    fake = FakeDaraja()
    use_fake_daraja(monkeypatch, fake)
    return fake
