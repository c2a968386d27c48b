"""Model instances compared as they were made."""


def as_made(instance) -> tuple:
    """What a model instance holds as the queryset made it: its class, its values, its state and, the same way, the
    related objects cached on it."""
    if instance is None:
        return (None,)
    state = instance._state
    return (
        type(instance),
        {name: value for name, value in instance.__dict__.items() if name != "_state"},
        (state.adding, state.db, state.fetch_mode),
        {name: as_made(related) for name, related in state.fields_cache.items()},
    )
