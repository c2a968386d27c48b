"""Fixtures shared across the test folders, loaded by tests/conftest.py's pytest_plugins: a test asks for them by
name and never imports them. A fixture one folder alone uses stays in that folder's conftest.py."""
