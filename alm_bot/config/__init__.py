"""Settings: the only reader of the environment, the ``.env`` file and the TOML config file.

``load_settings()`` reads everything, checks everything, and either returns a frozen ``Settings``
or raises ONE ``ConfigError`` that lists every problem as ``source: key: what is wrong``.

Environment (a ``.env`` file in the working directory is read too; real variables win):

========================== ================================================================
``ANAPLAN_REGION``         ``us1``, ``eu3``, ``au1``, … — sets the three URLs below that are not set
``ANAPLAN_API_URL``        default ``https://api.anaplan.com/2/0``
``ANAPLAN_AUTH_URL``       default ``https://auth.anaplan.com``
``ANAPLAN_OAUTH_URL``      default ``https://us1a.app.anaplan.com``
``ANAPLAN_USERNAME``       basic authentication, with ``ANAPLAN_PASSWORD``
``ANAPLAN_CERTIFICATE``    certificate authentication: PEM/DER certificate (or chain), or PKCS#12, with
``ANAPLAN_PRIVATE_KEY``    the path of its private key (``ANAPLAN_PRIVATE_KEY_PASSWORD`` if encrypted;
                           not needed when a ``.p12``/``.pfx`` holds it)
``ANAPLAN_CERT_FORMAT``    ``v2`` (default) or ``v1``: the certificate login body
``ANAPLAN_OAUTH_CLIENT_ID`` OAuth (device grant) authentication; ``ANAPLAN_OAUTH_CLIENT_SECRET`` if any;
``ALM_BOT_SECRET_KEY``     with the Fernet key that encrypts the stored OAuth tokens
``ANAPLAN_CA_BUNDLE``      PEM file of CAs to trust for Anaplan only
``ANAPLAN_PROXY``          ``http(s)://`` proxy for the Anaplan client only
``SLACK_BOT_TOKEN``        ``xoxb-…``; ``SLACK_SIGNING_SECRET`` (HTTP mode), ``SLACK_APP_TOKEN`` (Socket Mode)
``SLACK_API_URL``          unset: Slack's own Web API (the Slack front end knows its address)
``ALM_BOT_DATABASE_URL``   default: SQLite file ``alm-bot.db`` in the working directory. Accepts
                           ``sqlite:///path``, ``sqlite+aiosqlite:///path``, ``postgresql://…``,
                           ``postgresql+asyncpg://…``; always used through the async driver.
``ALM_BOT_CONFIG``         path of the TOML file below
``ALM_BOT_MCP_TOKENS``     bearer tokens of MCP HTTP clients and who they act as, comma-separated
                           ``token=actor`` pairs: ``k8Hq…=U123:Ada Lovelace,Zp3x…=bot-ci``. An actor is
                           ``id:Display Name`` or just ``id``. Map a person's token to their Slack user
                           id so that the four-eyes rule recognises them. Tokens contain no ``,``/``=``
                           and are at least 32 characters long.
``ALM_BOT_MCP_ACTOR``      who a stdio MCP client acts as, same actor format: ``U123:Ada`` or ``ada``
``ALM_BOT_MCP_OAUTH_ISSUER``  OAuth issuer whose JWT access tokens ``/mcp`` accepts (resource-server mode)
``ALM_BOT_MCP_OAUTH_AUDIENCE`` this server's public ``/mcp`` URL, the tokens' ``aud`` (default on
                           loopback: ``http://127.0.0.1:PORT/mcp``)
``ALM_BOT_MCP_OAUTH_JWKS_URL`` the issuer's JWK set (default: ``jwks_uri`` of its metadata)
``ALM_BOT_MCP_OAUTH_IDENTITY_CLAIM`` claim holding the caller's Slack user id (default ``slack_user_id``)
``ALM_BOT_LOG_FORMAT``     ``text`` (default) or ``json``
========================== ================================================================

TOML file (every key optional; unknown keys are refused so typos surface)::

    [approval]
    channel = "C0APPROVALS"                     # where approval cards go (needed when approvers exist)
    approvers = ["U0APPROVER1", "U0APPROVER2"]  # Slack user ids
    approver_groups = ["S0ALMADMINS"]           # Slack user-group ids
    allow_self_approval = false
    expires_after = "24h"                       # "90m", "2d", "3600s", "1h30m" or seconds
    override_approvers = ["U0RELEASEMGR"]       # may run a scheduled request outside its window

    [models.fpa-prod]                           # an alias usable wherever a model is named
    id = "0123456789ABCDEF0123456789ABCDEF"     # 32 hex digits
    protected = true                            # changes need approval even when not deployed

    [watcher]
    anaplan_requests_per_second = 5
    poll_min_seconds = 1                        # first poll of a task, then backing off to …
    poll_max_seconds = 15
    poll_near_end_seconds = 1.5                 # near a task's expected end (learnt from past tasks)
    lease_seconds = 60                          # how long a claimed task/notice is reserved

    [anaplan]
    timeout_seconds = 30

    [mcp]
    read_only = false

    [releases.fpa]                              # a named release group (alm_bot.config.releases)
    source = "dev"
    waves = [["test"], ["prod-emea", "prod-apac"]]  # in order; a wave's targets run in parallel
    on_failure = "stop"                         # or "continue"

    [[windows]]                                 # when models may change (alm_bot.windows)
    models = ["fpa-prod"]                       # [models.*] aliases, or "*" for every model
    kind = "deny"                               # "deny": not while open; "allow": only while open
    cron = "0 22 * * 1-5"                       # opens (wall clock of timezone), with …
    duration = "2h"                             # … how long it stays open; or instead of both:
    # start = "2026-12-24T00:00"                # a one-off window, local times in timezone,
    # end = "2026-12-27T00:00"                  # end after start
    timezone = "Europe/London"                  # IANA name; default "UTC"
    reason = "evening batch"                    # names the window in messages

The package: ``values`` (parsers and annotated types), ``sections`` (the TOML sections), ``releases``
(``[releases.*]``), ``settings`` (``Settings``), ``regions`` (Anaplan's region hosts), ``credentials``
(one complete login method),
``loading`` (``load_settings`` and the wording of problems).
"""

from __future__ import annotations

from alm_bot.config.loading import DEFAULTS_LABEL, load_settings
from alm_bot.config.releases import ReleaseConfig
from alm_bot.config.sections import (
    AnaplanConfig,
    ApprovalConfig,
    McpConfig,
    ModelConfig,
    WatcherConfig,
    WindowConfig,
)
from alm_bot.config.settings import Settings
from alm_bot.config.values import async_database_url, parse_duration

__all__ = [
    "DEFAULTS_LABEL",
    "AnaplanConfig",
    "ApprovalConfig",
    "McpConfig",
    "ModelConfig",
    "ReleaseConfig",
    "Settings",
    "WatcherConfig",
    "WindowConfig",
    "async_database_url",
    "load_settings",
    "parse_duration",
]
