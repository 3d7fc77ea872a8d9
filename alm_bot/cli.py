"""The `alm-bot` command line: serve, mcp, sandbox, requests, db, check.

Each subcommand's work lives in the module it belongs to; this module only parses arguments,
imports that module lazily (so `alm-bot mcp` starts fast) and turns errors into an exit code with
a message — never a traceback. Exit codes: 0 done, 1 refused (usage, configuration, policy — one
line on stderr), 2 a bug (also one line; ``ALM_BOT_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from alm_bot.audit_cli import add_audit_command
from alm_bot.cli_wording import in_cli_words
from alm_bot.errors import AlmBotError, ConfigError
from alm_bot.policy_cli import add_policy_command
from alm_bot.requests_cli import add_requests_command
from alm_bot.stats_cli import add_stats_command
from alm_bot.windows_cli import add_windows_command

if TYPE_CHECKING:
    from alm_bot.config import Settings

    Subparsers = argparse._SubParsersAction["_Parser"]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 1 (2 is the code for a bug)."""

    def error(self, message: str) -> NoReturn:
        self.exit(1, f"alm-bot: {message} (see: {self.prog} --help)\n")


def port_number(text: str) -> int:
    """A TCP port, 0–65535 (0 picks a free one)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0–65535; 0 picks a free one)")
    return port


def seconds(text: str) -> float:
    """A finite, non-negative number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (finite, 0 or more)")
    return value


def _add_sandbox(sub: Subparsers) -> None:
    p = sub.add_parser("sandbox", help="run the Anaplan ALM emulator on loopback")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=port_number, default=8765, help="port to bind (0 picks a free one)")
    p.add_argument(
        "--task-duration",
        type=seconds,
        default=3.0,
        metavar="SECONDS",
        help="how long each sync or comparison task runs (default 3; longer to rehearse restarts)",
    )
    p.add_argument("--strict-auth", action="store_true", help="refuse v1 certificate logins (v2 only)")
    p.set_defaults(func=_run_sandbox)


def _run_sandbox(args: argparse.Namespace) -> int:
    from alm_bot.sandbox.server import run

    return run(host=args.host, port=args.port, task_duration=args.task_duration, strict_auth=args.strict_auth)


def _add_mcp(sub: Subparsers) -> None:
    p = sub.add_parser("mcp", help="serve the ALM tools to a local AI assistant over stdio (MCP)")
    p.add_argument(
        "--sandbox", action="store_true", help="use the built-in Anaplan emulator and its demo configuration"
    )
    p.add_argument("--read-only", action="store_true", help="offer only the tools that change nothing")
    p.add_argument(
        "--client-config",
        action="store_true",
        help="print an MCP client configuration (JSON) that starts this checkout, and exit",
    )
    p.set_defaults(func=_run_mcp)


def _run_mcp(args: argparse.Namespace) -> int:
    if args.client_config:
        print(client_config(sandbox=args.sandbox, read_only=args.read_only))
        return 0
    from alm_bot.mcp.stdio import main as serve_mcp

    return serve_mcp(sandbox=args.sandbox, read_only=args.read_only)


def client_config(*, sandbox: bool, read_only: bool) -> str:
    """The stdio client configuration for the checkout in the working directory: paste it as it is."""
    import json

    flags = [flag for flag, on in (("--sandbox", sandbox), ("--read-only", read_only)) if on]
    env = {"ALM_BOT_MCP_ACTOR": os.environ.get("ALM_BOT_MCP_ACTOR") or "mcp-local"}
    if os.environ.get("ALM_BOT_CONFIG"):
        env["ALM_BOT_CONFIG"] = os.path.abspath(os.environ["ALM_BOT_CONFIG"])
    server = {
        "command": "uv",
        "args": ["run", "--directory", os.getcwd(), "alm-bot", "mcp", *flags],
        "env": env,
    }
    return json.dumps({"mcpServers": {"alm-bot": server}}, indent=2)


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
    p.add_argument("--port", type=port_number, default=8000, help="port to bind (0 picks a free one)")
    p.set_defaults(func=_run_serve)


def _run_serve(args: argparse.Namespace) -> int:
    from alm_bot.logs import configure_logging
    from alm_bot.serve import ServeOptions, run_serve

    settings = _settings(sandbox=args.sandbox)
    problems = []
    if not args.sandbox and not settings.anaplan_credentials_present:
        problems.append(
            "Anaplan credentials are missing: set ANAPLAN_USERNAME and ANAPLAN_PASSWORD, or "
            "ANAPLAN_CERTIFICATE and ANAPLAN_PRIVATE_KEY (ANAPLAN_API_URL/ANAPLAN_AUTH_URL for a "
            "regional tenant) — or try it with: alm-bot serve --sandbox"
        )
    problems += _exposure_problems(args.host, settings)
    if problems:
        raise ConfigError(problems)
    configure_logging(settings.log_format, secrets=settings.secret_values())
    return run_serve(settings, ServeOptions(host=args.host, port=args.port, sandbox=args.sandbox))


def _exposure_problems(host: str, settings: Settings) -> list[str]:
    """What forbids serving MCP over HTTP on ``host`` (checked with the rest, before the database)."""
    from alm_bot.mcp.auth import check_http_exposure

    try:
        check_http_exposure(host, settings)
    except ConfigError as exc:
        return exc.problems
    return []


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
        targets=getattr(args, "targets", ()),
        confirm_data_loss=getattr(args, "confirm_data_loss", False),
        override_risk=getattr(args, "override_risk", False),
    )
    settings = _sandbox_settings(args.sandbox_url) if args.sandbox_url else _settings()
    return run_requests(settings, command)


def _sandbox_settings(url: str) -> Settings:
    """The demo configuration, talking to the emulator a running ``serve --sandbox`` mounts at ``url``."""
    from alm_bot.config import load_settings
    from alm_bot.sandbox import seed
    from alm_bot.sandbox.defaults import sandbox_defaults

    base = url.rstrip("/")
    demo = {
        "ANAPLAN_API_URL": f"{base}/2/0",
        "ANAPLAN_AUTH_URL": base,
        "ANAPLAN_USERNAME": seed.ADMIN_USER,
        "ANAPLAN_PASSWORD": seed.PASSWORD,
    }
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ANAPLAN_")}
    return load_settings(env=environment | demo, defaults=sandbox_defaults(), env_file=None)


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


def _add_anaplan(sub: Subparsers) -> None:
    p = sub.add_parser("anaplan", help="Anaplan login")
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser("login", help="log in with OAuth (device grant) and store the refresh token")
    p.set_defaults(func=_run_anaplan)


def _run_anaplan(args: argparse.Namespace) -> int:
    from alm_bot.anaplan_login import run_anaplan_login

    return run_anaplan_login(_settings())


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="alm-bot", description="Anaplan ALM from Slack and AI assistants.")
    parser.add_argument("--version", action="version", version=f"alm-bot {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_serve(sub)
    _add_mcp(sub)
    _add_sandbox(sub)
    add_requests_command(sub, _run_requests)
    _add_db(sub)
    _add_check(sub)
    add_stats_command(sub)
    add_windows_command(sub)
    add_policy_command(sub)
    add_audit_command(sub)
    _add_anaplan(sub)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("alm-bot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _not_utf8(argv: Sequence[str]) -> str | None:
    """The first argument that is not valid UTF-8 (Python keeps such bytes as lone surrogates)."""
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return arg.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
    return None


def refusal(exc: AlmBotError) -> str:
    """What the CLI prints for a refusal: one line per problem, a single problem on a single line."""
    if not isinstance(exc, ConfigError):
        return f"alm-bot: {in_cli_words(exc)}"
    if len(exc.problems) == 1:
        return f"alm-bot: configuration: {exc.problems[0]}"
    lines = "\n".join(f"  - {problem}" for problem in exc.problems)
    return f"alm-bot: the configuration has {len(exc.problems)} problems:\n{lines}"


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    bad = _not_utf8(arguments)
    if bad is not None:
        print(f"alm-bot: argument {bad!r} is not valid UTF-8", file=sys.stderr)
        return 1
    try:
        args = build_parser().parse_args(arguments)
    except SystemExit as done:  # --help, --version, or a usage error (already printed, exit code 1)
        return done.code if isinstance(done.code, int) else 1
    try:
        code: int = args.func(args)
    except AlmBotError as exc:
        print(refusal(exc), file=sys.stderr)
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
