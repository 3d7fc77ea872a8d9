"""The parser of ``alm-bot requests``: list, show, notes, decide, override, cancel, sync, release, drop.

Break-glass and pipeline access to requests; `alm_bot.cli` runs what this parses (`alm_bot.admin`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[Any]

__all__ = ["add_requests_command", "identity"]


def identity(text: str) -> str:
    """Who acts (``--as``): a Slack user id or a pipeline's name; never blank."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is blank: name who acts (a Slack user id, e.g. U0123ABCD)")
    return text.strip()


def add_requests_command(sub: Subparsers, run: Callable[[argparse.Namespace], int]) -> None:
    """``alm-bot requests …``: its parser; ``run`` carries the parsed arguments out."""
    p = sub.add_parser(
        "requests", help="list and decide approval requests (break-glass; same policy as Slack)"
    )
    actions = p.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="recent requests, newest first (needs only the database)")
    listing.add_argument("--state", action="append", default=[], help="only this state (repeatable)")
    show = actions.add_parser("show", help="one request in full (needs only the database)")
    show.add_argument("id")
    notes = actions.add_parser(
        "notes", help="a request's release notes in Markdown (needs only the database)"
    )
    notes.add_argument("id")
    for name, text in (
        ("approve", "approve a pending request outside Slack (break-glass: marked, announced)"),
        ("reject", "reject a pending request"),
    ):
        decide = actions.add_parser(name, help=text)
        decide.add_argument("id")
        decide.add_argument(
            "--as", dest="actor", type=identity, required=True, help="your Slack user id (an approver)"
        )
        decide.add_argument("--reason", required=True, help="why (recorded in the audit and on the card)")
        if name == "approve":
            decide.add_argument(
                "--confirm-data-loss",
                action="store_true",
                help="approve a sync the data-loss radar says destroys data (recorded in the audit)",
            )
            decide.add_argument(
                "--override-risk",
                action="store_true",
                help="override approvers: approve past block_on_risk; --reason is the override's reason",
            )
    override = actions.add_parser("override", help="run a scheduled request now, outside its change window")
    override.add_argument("id")
    override.add_argument(
        "--as", dest="actor", type=identity, required=True, help="your Slack user id (an override approver)"
    )
    override.add_argument("--reason", required=True, help="why it cannot wait (audited, posted to approvers)")
    cancel = actions.add_parser("cancel", help="withdraw your own pending or scheduled request")
    cancel.add_argument("id")
    cancel.add_argument(
        "--as", dest="actor", type=identity, required=True, help="your Slack user id (the requester)"
    )
    sync = actions.add_parser("sync", help="request a sync (what a deployment pipeline calls)")
    sync.add_argument("source")
    sync.add_argument("target")
    sync.add_argument("--revision", help="revision name or id (default: newest syncable)")
    sync.add_argument(
        "--as", dest="actor", type=identity, required=True, help="who asks (Slack user id or pipeline name)"
    )
    release = actions.add_parser(
        "release", help="request a release: one revision into several targets (or a configured group)"
    )
    release.add_argument("source", help="the source model, or a [releases.<name>] group (no targets)")
    release.add_argument("targets", nargs="*", help="target models (one wave, in parallel)")
    release.add_argument("--revision", help="revision name or id (default: newest syncable)")
    drop = actions.add_parser("drop", help="drop targets of your release that preflight blocked")
    drop.add_argument("id")
    drop.add_argument("targets", nargs="*", help="targets to drop (default: every blocked one)")
    for who in (release, drop):
        who.add_argument("--as", dest="actor", type=identity, required=True, help="who asks (the requester)")
    for action in actions.choices.values():
        action.add_argument("--json", dest="as_json", action="store_true", help="machine-readable output")
        action.add_argument(
            "--sandbox-url",
            metavar="URL",
            help="act on the emulator of a running `serve --sandbox` (e.g. http://127.0.0.1:8000/sandbox)",
        )
    p.set_defaults(func=run)
