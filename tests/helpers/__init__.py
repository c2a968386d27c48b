"""Plain helpers the tests share, imported like any module: builders, request bodies, the one way to wait.

Fixtures are not here: the shared ones live in tests/plugins/ (listed in tests/conftest.py's pytest_plugins),
so that pytest finds them without an import."""
