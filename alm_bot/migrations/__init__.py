"""Alembic migrations of alm-bot's database, shipped in the package and run by ``Store.upgrade()``."""
