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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alm-bot", description="Anaplan ALM from Slack and AI assistants.")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_sandbox(sub)
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
