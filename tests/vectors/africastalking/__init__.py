"""Africa's Talking's SMS wire vectors: the documented send request and its answers, and delivery reports as
documented, catalogued in index.json. The client's, the delivery-report endpoint's and the emulator's tests read them
from here."""

import json
from pathlib import Path

VECTORS = Path(__file__).parent
_CATALOGUE = json.loads((VECTORS / "index.json").read_text())
INDEX = {entry["name"]: entry for entry in _CATALOGUE["vectors"]}
# The documented endpoints, production's and the sandbox's.
ENDPOINTS = _CATALOGUE["endpoints"]


def at_vector(name: str) -> dict | str:
    """A vector's body: JSON as a dict, a form or a text body as a string."""
    path = VECTORS / INDEX[name]["file"]
    return json.loads(path.read_text()) if path.suffix == ".json" else path.read_text()
