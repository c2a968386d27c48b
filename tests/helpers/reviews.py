"""Review form data for tests."""

GOOD_TEXT = "Lovely quiet place, spotless rooms and a very helpful host."


def guest_form(**overrides) -> dict:
    data = {
        "rating": "5",
        "cleanliness": "5",
        "accuracy": "4",
        "check_in": "5",
        "communication": "5",
        "location": "4",
        "value": "4",
        "text": GOOD_TEXT,
    }
    data.update(overrides)
    return data


def host_form(**overrides) -> dict:
    data = {
        "rating": "5",
        "text": "Tidy, friendly guests who left the place as they found it.",
        "would_host_again": "yes",
    }
    data.update(overrides)
    return data
