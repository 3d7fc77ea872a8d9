"""Fixtures of the reliability suite: ``database_url`` and ``sqlite_url`` come from `tests.databases`
(through ``tests/conftest.py``): a fresh database of each kind alm-bot supports."""
