"""Daraja's wire vectors: the exact bodies of its requests, answers, callbacks and results, catalogued in
index.json. The Daraja client's tests, the callback tests, the console's tests and the emulator's tests all read
them from here."""

import json
from pathlib import Path

VECTORS = Path(__file__).parent


def vector(name: str) -> dict:
    return json.loads((VECTORS / f"{name}.json").read_text())
