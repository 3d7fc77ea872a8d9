"""``alm-bot check``: is this configuration able to run alm-bot? One row per thing checked.

Rows: the configuration (and which file it came from), the database (named without its
password; never created — a SQLite file that does not exist yet is only reported), the Anaplan API
URL's shape, the Anaplan login, ALM access as a Workspace Administrator on every configured model
(the failing models by alias), the approvers, and Slack (`alm_bot.slack.checks`). Each Anaplan or
Slack call has its own timeout, so a part that does not answer is one failing row, not a hang.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio

from alm_bot.config import Settings
from alm_bot.errors import AlmBotError, PermissionDenied

__all__ = ["CheckRow", "check_rows", "check_table"]

_CALL_TIMEOUT = 15.0


@dataclass(frozen=True)
class CheckRow:
    """One line of ``alm-bot check``: what was checked, whether it is fine, and what was found."""

    name: str
    ok: bool
    detail: str


async def check_rows(settings: Settings) -> list[CheckRow]:
    """Every row, in the order they are printed."""
    from alm_bot.slack.checks import slack_rows

    rows = [_configuration(settings), await _database(settings), _api_url(settings)]
    rows += await _anaplan(settings)
    rows.append(_approvers(settings))
    rows += await slack_rows(settings)
    return rows


def _configuration(settings: Settings) -> CheckRow:
    source = f"file {settings.config_file}" if settings.config_file else "no file (ALM_BOT_CONFIG unset)"
    return CheckRow("configuration", True, f"valid: environment and {source}")


async def _database(settings: Settings) -> CheckRow:
    from alm_bot.admin import database_name, missing_sqlite_file
    from alm_bot.store import Store

    name = database_name(settings)
    missing = missing_sqlite_file(settings)
    if missing is not None:
        return CheckRow("database", True, missing)
    store = Store(settings.database_url)
    try:
        with anyio.fail_after(_CALL_TIMEOUT):
            await store.ping()
            revision = await store.schema_revision()
    except TimeoutError:
        return CheckRow("database", False, f"{name}: no answer within {_CALL_TIMEOUT:g}s")
    except ConnectionError as exc:
        return CheckRow("database", False, str(exc))
    finally:
        await store.dispose()
    return CheckRow("database", True, f"{name} ({store.dialect}), schema {revision or 'empty'}")


def _api_url(settings: Settings) -> CheckRow:
    path = urlsplit(settings.anaplan_api_url).path.rstrip("/")
    if not path.endswith("/2/0"):
        return CheckRow(
            "anaplan api url",
            False,
            f"{settings.anaplan_api_url} does not end in /2/0 (e.g. https://api.anaplan.com/2/0)",
        )
    return CheckRow("anaplan api url", True, settings.anaplan_api_url)


async def _anaplan(settings: Settings) -> list[CheckRow]:
    if not settings.anaplan_credentials_present:
        return [
            CheckRow(
                "anaplan login",
                False,
                "no credentials: set ANAPLAN_USERNAME/ANAPLAN_PASSWORD, a certificate, or an OAuth client",
            )
        ]
    from alm_bot.services import open_anaplan_client

    async with open_anaplan_client(settings) as client:  # with the database an OAuth login lives in
        try:
            with anyio.fail_after(_CALL_TIMEOUT):
                await client.login()
        except TimeoutError:
            return [CheckRow("anaplan login", False, f"no answer within {_CALL_TIMEOUT:g}s")]
        except AlmBotError as exc:
            return [CheckRow("anaplan login", False, str(exc))]
        rows = [CheckRow("anaplan login", True, f"logged in at {settings.anaplan_auth_url}")]
        failing: list[str] = []
        for alias, model in settings.models.items():
            try:
                with anyio.fail_after(_CALL_TIMEOUT):
                    await client.alm(model.id).get_latest_revision()
            except PermissionDenied:
                failing.append(f"{alias} (not a Workspace Administrator there)")
            except TimeoutError:
                failing.append(f"{alias} (no answer)")
            except AlmBotError as exc:
                failing.append(f"{alias} ({exc})")
    if failing:
        rows.append(CheckRow("anaplan models", False, "no ALM access to: " + "; ".join(failing)))
    elif settings.models:
        rows.append(CheckRow("anaplan models", True, f"ALM access to {', '.join(settings.models)}"))
    return rows


def _approvers(settings: Settings) -> CheckRow:
    approval = settings.approval
    if not approval.configured:
        return CheckRow("approvers", False, "none configured: protected changes will be refused")
    who = len(approval.approvers) + len(approval.approver_groups)
    return CheckRow("approvers", True, f"{who} approver(s)/group(s), cards in {approval.channel}")


def check_table(rows: list[CheckRow]) -> str:
    width = max(len(row.name) for row in rows)
    return "\n".join(f"{'ok  ' if row.ok else 'FAIL'}  {row.name.ljust(width)}  {row.detail}" for row in rows)
