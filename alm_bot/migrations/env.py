"""Alembic environment: runs the migrations on the connection that ``Store.upgrade()`` hands over.

There is no ``alembic.ini``: ``alm_bot.store.migrate`` configures Alembic in code and passes an
open connection, already inside the transaction (and, on PostgreSQL, the advisory lock) that makes
concurrent upgrades safe. New migrations are written by hand in ``versions/`` (copy
``script.py.mako``); ``tests/core/test_store_migrations.py`` fails while the tables in
``alm_bot.store.tables`` and the migrated schema differ.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from alm_bot.store.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things: Alembic copies the table instead ("batch" mode).
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError("alm-bot migrations run through Store.upgrade() (`alm-bot db upgrade`), not alembic")
_run(_connection)
