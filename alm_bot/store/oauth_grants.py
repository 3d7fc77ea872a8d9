"""The Anaplan OAuth grant in the database: one row per OAuth client, encrypted, compare-and-set.

Why the database and not a file: alm-bot may run as several replicas, and Anaplan's refresh tokens
rotate (each refresh makes the previous token useless). A 0600 file on one host cannot be shared,
and two processes replacing it could each keep a token the other already spent. One row, replaced
only when its ``version`` is still the one the writer read (``UPDATE … WHERE version = :seen``),
makes "who rotated last" a single winner on SQLite and PostgreSQL alike — the loser re-reads the
row and uses the winner's tokens. The tokens are encrypted with ``ALM_BOT_SECRET_KEY`` (Fernet:
AES-128-CBC + HMAC-SHA256), so a database dump or backup alone does not log anyone in to Anaplan.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr
from sqlmodel import Field, SQLModel

from alm_bot.anaplan.oauth import StoredGrant, TokenGrant
from alm_bot.errors import LoginRequired
from alm_bot.store.engine import WRITE
from alm_bot.store.repository import Store
from alm_bot.store.tables import UtcDateTime, utcnow

__all__ = ["AnaplanOAuthGrant", "DatabaseGrantStore"]


class AnaplanOAuthGrant(SQLModel, table=True):
    """The current OAuth grant of one Anaplan OAuth client (tokens encrypted)."""

    __tablename__ = "anaplan_oauth_grant"

    client_id: str = Field(primary_key=True)
    version: int
    refresh_token: str = Field(sa_type=sa.Text)
    access_token: str = Field(sa_type=sa.Text)
    access_expires_at: datetime = Field(sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


_TABLE = AnaplanOAuthGrant.__table__  # type: ignore[attr-defined]


class DatabaseGrantStore:
    """A ``GrantStore`` (``alm_bot.anaplan.oauth``) on alm-bot's database."""

    def __init__(self, store: Store, client_id: str, key: SecretStr) -> None:
        self._store = store
        self._client_id = client_id
        self._fernet = Fernet(key.get_secret_value().encode())

    async def load(self) -> StoredGrant | None:
        query = sa.select(_TABLE).where(_TABLE.c.client_id == self._client_id)
        async with self._store.engine.connect() as connection:
            try:
                row = (await connection.execute(query)).first()
            except sa.exc.DBAPIError:
                await connection.rollback()
                if await connection.run_sync(lambda sync: sa.inspect(sync).has_table(_TABLE.name)):
                    raise
                return None  # a database without migration 0003 holds no login yet
        if row is None:
            return None
        try:
            grant = TokenGrant(
                access_token=SecretStr(self._fernet.decrypt(row.access_token).decode()),
                refresh_token=SecretStr(self._fernet.decrypt(row.refresh_token).decode()),
                expires_at=row.access_expires_at.timestamp(),
            )
        except InvalidToken:
            raise LoginRequired(
                "The stored Anaplan OAuth login cannot be decrypted with ALM_BOT_SECRET_KEY (the key "
                "changed?). Run `alm-bot anaplan login` again.",
            ) from None
        return StoredGrant(grant, row.version)

    async def replace(self, grant: TokenGrant, expected_version: int | None) -> StoredGrant | None:
        """Store ``grant`` if the row is still at ``expected_version`` (None: no row yet, or any row
        when a person logs in anew); the stored result, or None when another writer got there first."""
        values = {
            "refresh_token": self._encrypt(grant.refresh_token),
            "access_token": self._encrypt(grant.access_token),
            "access_expires_at": datetime.fromtimestamp(grant.expires_at, tz=UTC),
            "updated_at": utcnow(),
        }
        mine = _TABLE.c.client_id == self._client_id
        try:
            async with self._store.engine.connect() as connection:
                connection = await connection.execution_options(**{WRITE: True})
                async with connection.begin():
                    current = (await connection.execute(sa.select(_TABLE.c.version).where(mine))).scalar()
                    if current is None:
                        if expected_version is not None:
                            return None
                        await connection.execute(
                            sa.insert(_TABLE).values(client_id=self._client_id, version=1, **values)
                        )
                        return StoredGrant(grant, 1)
                    if expected_version is not None and current != expected_version:
                        return None
                    # The version in the WHERE makes this the compare-and-set, whatever ran in between.
                    changed = await connection.execute(
                        sa.update(_TABLE)
                        .where(mine, _TABLE.c.version == current)
                        .values(version=current + 1, **values)
                    )
                    return StoredGrant(grant, current + 1) if changed.rowcount == 1 else None
        except sa.exc.IntegrityError:
            return None  # another writer inserted the first row at the same moment

    def _encrypt(self, secret: SecretStr) -> str:
        return self._fernet.encrypt(secret.get_secret_value().encode()).decode("ascii")
