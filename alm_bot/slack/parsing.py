"""What people type after ``/alm``: the subcommand table and a parser that explains every mistake.

The table is the single source of the usage lines shown by ``/alm help`` and in every usage error.
Arguments are split like a shell does (``shlex``), so names with spaces are quoted:
``/alm revision dev "Q3 release" "New cost centres"``. Slack sends ``&``, ``<`` and ``>``
HTML-escaped and some clients turn quotes into typographic ones; both are undone first.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Final

from alm_bot.errors import InvalidArgument

__all__ = ["SUBCOMMANDS", "Invocation", "Subcommand", "UsageError", "parse"]

_MANY: Final = 50  # "any number" of arguments (a release's targets)
_FORMS: Final = frozenset({"sync"})  # subcommands that open a form when typed without arguments
_REST: Final = 200  # words a free-text last argument (a reason) may have
_TYPOGRAPHIC_QUOTES: Final = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})


class UsageError(InvalidArgument):
    """The command text does not fit the subcommand's usage; the message shows the right usage."""

    def __init__(self, message: str) -> None:
        super().__init__("text", message)


@dataclass(frozen=True)
class Subcommand:
    """One ``/alm`` subcommand: how it is written and how many arguments it takes."""

    name: str
    arguments: str
    summary: str
    required: int = 0
    optional: int = 0
    flags: frozenset[str] = frozenset()
    choices: tuple[str, ...] = ()  # allowed values of the single optional argument, if restricted
    valued: frozenset[str] = frozenset()  # options followed by a value, like --revision R

    @property
    def usage(self) -> str:
        return f"/alm {self.name} {self.arguments}".rstrip()


SUBCOMMANDS: Final[dict[str, Subcommand]] = {
    s.name: s
    for s in (
        Subcommand("help", "", "show this list"),
        Subcommand("models", "[filter]", "models you can use, with alias, state and protection", optional=1),
        Subcommand("revisions", "<model>", "revisions of a model, newest first", required=1),
        Subcommand("latest", "<model>", "the latest revision of a model", required=1),
        Subcommand("syncable", "<source> <target>", "source revisions the target can take", required=2),
        Subcommand("applied", "<model> <revision>", "models a revision has been applied to", required=2),
        Subcommand("tasks", "<model>", "recent sync tasks into a model", required=1),
        Subcommand("task", "<model> <task-id>", "one sync task: state, progress, result", required=2),
        Subcommand(
            "revision",
            '<model> "<name>" ["<description>"]',
            "create a revision on a model",
            required=2,
            optional=1,
        ),
        Subcommand(
            "sync",
            "<source> <target> [<revision>]",
            "sync a revision (newest by default); approval for protected targets; no arguments: a form",
            required=2,
            optional=1,
        ),
        Subcommand(
            "release",
            "<source> <target>… [--revision <r>] | <group>",
            "ship one revision into several targets (or a configured group), wave by wave, one approval",
            required=1,
            optional=_MANY,
            valued=frozenset({"--revision"}),
        ),
        Subcommand(
            "compare",
            "<source> <target> [<revision>] [--full]",
            "what a sync would change; --full sends the detailed report",
            required=2,
            optional=1,
            flags=frozenset({"--full"}),
        ),
        Subcommand("online", "<model>", "take a model online (protected models need approval)", required=1),
        Subcommand("offline", "<model>", "take a model offline (protected models need approval)", required=1),
        Subcommand(
            "requests",
            "[mine|pending]",
            "recent approval requests, yours, or those waiting",
            optional=1,
            choices=("mine", "pending"),
        ),
        Subcommand(
            "cancel", "<request-id>", "withdraw a request of yours that is pending or scheduled", required=1
        ),
        Subcommand(
            "windows",
            "[<model>]",
            "change windows: open now, next opening, whether a model may change",
            optional=1,
        ),
        Subcommand(
            "override",
            "<request-id> <reason…>",
            "run a scheduled request now, outside its change window (override approvers)",
            required=2,
            optional=_REST,
        ),
        Subcommand("audit", "[<model>]", "recent audit events, optionally of one model", optional=1),
        Subcommand("policy", "<model>", "the approval rules for changes into a model", required=1),
        Subcommand("stats", "[<model>]", "delivery figures of the last 90 days, per model", optional=1),
    )
}


@dataclass(frozen=True)
class Invocation:
    """A parsed ``/alm`` command. ``unknown`` holds a subcommand name nobody knows (help is shown)."""

    name: str
    args: tuple[str, ...] = ()
    flags: frozenset[str] = field(default_factory=frozenset)
    unknown: str | None = None
    options: tuple[tuple[str, str], ...] = ()  # (option, value) of the valued options given

    def option(self, name: str) -> str | None:
        return next((value for key, value in self.options if key == name), None)

    def arg(self, index: int) -> str | None:
        return self.args[index] if index < len(self.args) else None


def parse(text: str) -> Invocation:
    """Parse the text after ``/alm``. Empty or unknown input asks for help; mistakes raise `UsageError`."""
    words = _split(_unescape(text))
    if not words:
        return Invocation("help")
    name, rest = words[0].casefold(), words[1:]
    subcommand = SUBCOMMANDS.get(name)
    if subcommand is None:
        return Invocation("help", unknown=words[0])
    if subcommand.name in _FORMS and not rest:
        return Invocation(subcommand.name)
    rest = [_as_flag(w) for w in rest]
    rest, options = _valued(subcommand, rest)
    flags = frozenset(w.casefold() for w in rest if w.startswith("--"))
    args = tuple(w for w in rest if not w.startswith("--"))
    _check(subcommand, args, flags)
    return Invocation(subcommand.name, args, flags, options=options)


def _valued(subcommand: Subcommand, words: list[str]) -> tuple[list[str], tuple[tuple[str, str], ...]]:
    """Take ``--option value`` pairs out of the words (only the subcommand's valued options)."""
    rest: list[str] = []
    options: list[tuple[str, str]] = []
    remaining = iter(words)
    for word in remaining:
        if word.casefold() not in subcommand.valued:
            rest.append(word)
            continue
        value = next(remaining, None)
        if value is None or value.startswith("--"):
            raise UsageError(f"{word} needs a value. Usage: {subcommand.usage}")
        options.append((word.casefold(), value))
    return rest, tuple(options)


def _unescape(text: str) -> str:
    # Slack escapes these three in slash command text whatever the app asks for.
    unescaped = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return unescaped.translate(_TYPOGRAPHIC_QUOTES)


def _as_flag(word: str) -> str:
    # Autocorrecting clients turn "--full" into "—full".
    return "--" + word[1:] if word.startswith("—") and len(word) > 1 else word


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        raise UsageError(
            "Your command has an unbalanced quote. Close it, or leave it out: "
            '/alm revision dev "Q3 release" "New cost centres".'
        ) from None


def _check(subcommand: Subcommand, args: tuple[str, ...], flags: frozenset[str]) -> None:
    usage = f"Usage: {subcommand.usage}"
    unknown_flags = sorted(flags - subcommand.flags)
    if unknown_flags:
        raise UsageError(f"/alm {subcommand.name} has no option {unknown_flags[0]}. {usage}")
    if len(args) < subcommand.required:
        missing = subcommand.arguments.split()[len(args)]
        raise UsageError(f"/alm {subcommand.name} needs {missing}. {usage}")
    most = subcommand.required + subcommand.optional
    if len(args) > most:
        raise UsageError(
            f"/alm {subcommand.name} takes at most {most} argument(s), you gave {len(args)}. "
            f'Put names with spaces in quotes ("FP&A PROD"). {usage}'
        )
    if subcommand.choices and args and args[0].casefold() not in subcommand.choices:
        raise UsageError(
            f"/alm {subcommand.name} takes {' or '.join(subcommand.choices)}, not {args[0]}. {usage}"
        )
