"""The `alm-bot` command line: serve, mcp, sandbox, requests, db, check.

Each subcommand's work lives in the module it belongs to; this module only parses arguments,
imports that module lazily (so `alm-bot mcp` starts fast) and turns errors into an exit code with
a message — never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from alm_bot.cli_wording import in_cli_words
from alm_bot.errors import AlmBotError, ConfigError
from alm_bot.stats_cli import add_stats_command

if TYPE_CHECKING:
    from alm_bot.config import Settings

    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def _add_sandbox(sub: Subparsers) -> None:
    p = sub.add_parser("sandbox", help="run the Anaplan ALM emulator on loopback")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765, help="port to bind (0 picks a free one)")
    p.add_argument(
        "--task-duration",
        type=float,
        default=3.0,
        metavar="SECONDS",
        help="how long each sync or comparison task runs (default 3; longer to rehearse restarts)",
    )
    p.set_defaults(func=_run_sandbox)


def _run_sandbox(args: argparse.Namespace) -> int:
    from alm_bot.sandbox.server import run

    return run(host=args.host, port=args.port, task_duration=args.task_duration)


def _add_mcp(sub: Subparsers) -> None:
    p = sub.add_parser("mcp", help="serve the ALM tools to a local AI assistant over stdio (MCP)")
    p.add_argument(
        "--sandbox", action="store_true", help="use the built-in Anaplan emulator and its demo configuration"
    )
    p.add_argument("--read-only", action="store_true", help="offer only the tools that change nothing")
    p.set_defaults(func=_run_mcp)


def _run_mcp(args: argparse.Namespace) -> int:
    from alm_bot.mcp.stdio import main as serve_mcp

    return serve_mcp(sandbox=args.sandbox, read_only=args.read_only)


def _settings(*, sandbox: bool = False) -> Settings:
    """Settings from the environment; with ``--sandbox`` the demo configuration is the bottom layer."""
    from alm_bot.config import load_settings

    if not sandbox:
        return load_settings()
    from alm_bot.sandbox.defaults import sandbox_defaults

    return load_settings(defaults=sandbox_defaults())


def _add_serve(sub: Subparsers) -> None:
    p = sub.add_parser("serve", help="run Slack, MCP over HTTP, the watcher and /healthz on one port")
    p.add_argument("--sandbox", action="store_true", help="run against the built-in Anaplan emulator")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    p.add_argument("--port", type=int, default=8000, help="port to bind (0 picks a free one)")
    p.set_defaults(func=_run_serve)


def _run_serve(args: argparse.Namespace) -> int:
    from alm_bot.logs import configure_logging
    from alm_bot.serve import ServeOptions, run_serve

    settings = _settings(sandbox=args.sandbox)
    if not args.sandbox and not settings.anaplan_credentials_present:
        raise ConfigError(
            [
                "Anaplan credentials are missing: set ANAPLAN_USERNAME and ANAPLAN_PASSWORD, or "
                "ANAPLAN_CERTIFICATE and ANAPLAN_PRIVATE_KEY (ANAPLAN_API_URL/ANAPLAN_AUTH_URL for a "
                "regional tenant) — or try it with: alm-bot serve --sandbox"
            ]
        )
    configure_logging(settings.log_format, secrets=settings.secret_values())
    return run_serve(settings, ServeOptions(host=args.host, port=args.port, sandbox=args.sandbox))


def _add_requests(sub: Subparsers) -> None:
    p = sub.add_parser(
        "requests", help="list and decide approval requests (break-glass; same policy as Slack)"
    )
    actions = p.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="recent requests, newest first")
    listing.add_argument("--state", action="append", default=[], help="only this state (repeatable)")
    show = actions.add_parser("show", help="one request in full")
    show.add_argument("id")
    for name, text in (("approve", "approve a pending request"), ("reject", "reject a pending request")):
        decide = actions.add_parser(name, help=text)
        decide.add_argument("id")
        decide.add_argument(
            "--as", dest="actor", required=True, help="your Slack user id (must be an approver)"
        )
        decide.add_argument("--reason", required=name == "reject", help="why (required to reject)")
    cancel = actions.add_parser("cancel", help="withdraw your own pending request")
    cancel.add_argument("id")
    cancel.add_argument("--as", dest="actor", required=True, help="your Slack user id (the requester)")
    sync = actions.add_parser("sync", help="request a sync (what a deployment pipeline calls)")
    sync.add_argument("source")
    sync.add_argument("target")
    sync.add_argument("--revision", help="revision name or id (default: newest syncable)")
    sync.add_argument(
        "--as", dest="actor", required=True, help="who asks (a Slack user id, or a pipeline name)"
    )
    for action in (listing, show, *actions.choices.values()):
        if not any(a.dest == "as_json" for a in action._actions):
            action.add_argument("--json", dest="as_json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_run_requests)


def _run_requests(args: argparse.Namespace) -> int:
    from alm_bot.admin import RequestsCommand, run_requests

    command = RequestsCommand(
        action=args.action,
        request_id=getattr(args, "id", None),
        actor_id=getattr(args, "actor", None),
        reason=getattr(args, "reason", None),
        source=getattr(args, "source", None),
        target=getattr(args, "target", None),
        revision=getattr(args, "revision", None),
        states=getattr(args, "state", ()),
        as_json=args.as_json,
    )
    return run_requests(_settings(), command)


def _add_db(sub: Subparsers) -> None:
    p = sub.add_parser("db", help="database maintenance")
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser("upgrade", help="apply the shipped migrations (also done at start-up)")
    p.set_defaults(func=_run_db)


def _run_db(args: argparse.Namespace) -> int:
    from alm_bot.admin import run_db_upgrade

    return run_db_upgrade(_settings())


def _add_check(sub: Subparsers) -> None:
    p = sub.add_parser("check", help="check configuration, database and Anaplan login; exit 1 on problems")
    p.set_defaults(func=_run_check)


def _run_check(args: argparse.Namespace) -> int:
    from alm_bot.admin import run_check

    return run_check(_settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alm-bot", description="Anaplan ALM from Slack and AI assistants.")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_serve(sub)
    _add_mcp(sub)
    _add_sandbox(sub)
    _add_requests(sub)
    _add_db(sub)
    _add_check(sub)
    add_stats_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except AlmBotError as exc:
        print(f"alm-bot: {in_cli_words(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the very edge: a bug, not a refusal — one line, details on request
        if os.environ.get("ALM_BOT_DEBUG"):
            raise
        print(
            f"alm-bot: unexpected error ({type(exc).__name__}: {exc}). "
            "Run again with ALM_BOT_DEBUG=1 for the traceback, and please report it.",
            file=sys.stderr,
        )
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
