import pytest

from daraja_emulator import dispatcher
from tests.daraja_emulator.emulator_support import Receiver


@pytest.fixture
def receiver(transactional_db):
    """A merchant's callback server on loopback, recording what the emulator POSTs to it."""
    server = Receiver()
    yield server
    dispatcher.stop()
    server.close()
