"""The `alm-bot` command line: serve, mcp, sandbox, requests, db, check.

Each subcommand's work lives in the module it belongs to; this module only parses arguments,
imports that module lazily (so `alm-bot mcp` starts fast) and turns errors into an exit code with
a message — never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from alm_bot.errors import AlmBotError


def _add_sandbox(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sandbox", help="run the Anaplan ALM emulator on loopback")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.set_defaults(func=_run_sandbox)


def _run_sandbox(args: argparse.Namespace) -> int:
    from alm_bot.sandbox.server import run

    return run(host=args.host, port=args.port)


def _add_mcp(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("mcp", help="serve the ALM tools to a local AI assistant over stdio (MCP)")
    p.add_argument(
        "--sandbox", action="store_true", help="use the built-in Anaplan emulator and its demo configuration"
    )
    p.add_argument("--read-only", action="store_true", help="offer only the tools that change nothing")
    p.set_defaults(func=_run_mcp)


def _run_mcp(args: argparse.Namespace) -> int:
    from alm_bot.mcp.stdio import main as serve_mcp

    return serve_mcp(sandbox=args.sandbox, read_only=args.read_only)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alm-bot", description="Anaplan ALM from Slack and AI assistants.")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_sandbox(sub)
    _add_mcp(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except AlmBotError as exc:
        print(f"alm-bot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
