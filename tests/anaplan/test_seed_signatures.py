"""``AlmClient`` keeps the 15 seed operations' signatures exactly: names, parameter names and order,
defaults, annotations, return types, ``async``, and the three ``wait_for_completion`` overloads.
Additions are allowed only as keyword-only parameters with a default (``get_revisions(...,
applied_after=…)``), so every call written against the seed still means the same.

Checked twice: against an embedded copy (always), and against the seed document itself
(``../shared/reference/seed-alm-client-api.md`` beside the repository) when it is present.
"""

from __future__ import annotations

import ast
import inspect
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from alm_bot.anaplan import AlmClient

SEED_DOC = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "seed-alm-client-api.md"

_WAITING = """
{name}(
    source_revision_id: str,
    source_model_id: str,
    target_revision_id: str,
    wait_for_completion: Literal[True] = True,
) -> {done}
{name}(
    source_revision_id: str,
    source_model_id: str,
    target_revision_id: str,
    wait_for_completion: Literal[False] = False,
) -> {pending}
{name}(
    source_revision_id: str,
    source_model_id: str,
    target_revision_id: str,
    wait_for_completion: bool = True,
) -> {either}
"""

EMBEDDED = (
    """
change_model_status(status: Literal['online', 'offline']) -> None
get_revisions(
    sort_by: Literal["id", "name", "applied_on", "created_on"] | None = None,
    descending: bool = False,
) -> list[Revision]
get_latest_revision() -> Revision | None
get_syncable_revisions(source_model_id: str) -> list[Revision]
create_revision(name: str, description: str) -> Revision
get_sync_tasks() -> list[TaskSummary]
get_sync_task(task_id: str) -> SyncTask
get_models_for_revision(revision_id: str) -> list[ModelRevision]
get_comparison_report_task(task_id: str) -> ReportTask
get_comparison_report(task: ReportTask) -> bytes
get_comparison_summary_task(task_id: str) -> ReportTask
get_comparison_summary(task: ReportTask) -> SummaryReport
"""
    + _WAITING.format(name="sync_models", done="CompletedSyncTask", pending="PendingTask", either="SyncTask")
    + _WAITING.format(
        name="create_comparison_report",
        done="CompletedReportTask",
        pending="PendingTask",
        either="ReportTask",
    )
    + _WAITING.format(
        name="create_comparison_summary",
        done="SummaryReport",
        pending="ReportTask",
        either="ReportTask | SummaryReport",
    )
)


@dataclass(frozen=True)
class Signature:
    """One signature reduced to comparable text: parameters (name, annotation, default) and return."""

    name: str
    parameters: tuple[tuple[str, str, Any], ...]
    returns: str


def _normal(annotation: str) -> str:
    """Annotation text with quotes and spacing normalised (``"a"`` and ``'a'`` compare equal)."""
    return ast.unparse(ast.parse(annotation, mode="eval"))


def parse_signatures(text: str) -> dict[str, list[Signature]]:
    """Every ``name(params) -> return`` in ``text`` (one per line or spread over lines), by name."""
    found: dict[str, list[Signature]] = {}
    flat = re.sub(r"\(\s*\n\s*", "(", text)
    flat = re.sub(r",?\s*\n\s*\)", ")", flat)
    flat = re.sub(r",\s*\n\s*", ", ", flat)
    for line in flat.splitlines():
        match = re.fullmatch(r"\s*([a-z_]+)\((.*)\)\s*->\s*(.+?)\s*", line)
        if match is None:
            continue
        name, params, returns = match.groups()
        function = ast.parse(f"def {name}({params}) -> {returns}: ...").body[0]
        assert isinstance(function, ast.FunctionDef)
        arguments = function.args.args
        defaults = [None] * (len(arguments) - len(function.args.defaults)) + list(function.args.defaults)
        parameters = tuple(
            (
                argument.arg,
                ast.unparse(argument.annotation) if argument.annotation else "",
                ast.literal_eval(default) if default is not None else inspect.Parameter.empty,
            )
            for argument, default in zip(arguments, defaults, strict=True)
        )
        signature = Signature(name, parameters, ast.unparse(function.returns) if function.returns else "")
        found.setdefault(name, []).append(signature)
    return found


def actual(function: Any, name: str) -> Signature:
    """The seed-relevant signature: every parameter but ``self`` and the keyword-only additions."""
    signature = inspect.signature(function)
    added = [p for p in signature.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert all(p.default is not inspect.Parameter.empty for p in added), f"{name}: additions need defaults"
    parameters = tuple(
        (p.name, _normal(p.annotation) if isinstance(p.annotation, str) else str(p.annotation), p.default)
        for p in signature.parameters.values()
        if p.name != "self" and p.kind is not inspect.Parameter.KEYWORD_ONLY
    )
    returns = signature.return_annotation
    return Signature(name, parameters, _normal(returns) if isinstance(returns, str) else str(returns))


def check_against(expected: dict[str, list[Signature]]) -> None:
    assert len(expected) == 15, sorted(expected)
    for name, signatures in expected.items():
        method = getattr(AlmClient, name)
        assert inspect.iscoroutinefunction(method), f"{name} must be async"
        if len(signatures) == 1:
            assert actual(method, name) == signatures[0]
            assert typing.get_overloads(method) == []
        else:
            overloads = typing.get_overloads(method)
            assert [actual(o, name) for o in overloads] == signatures
            # The implementation accepts exactly what the widest overload accepts.
            assert actual(method, name) == signatures[-1]


def test_alm_client_matches_the_embedded_seed_signatures() -> None:
    check_against(parse_signatures(EMBEDDED))


def test_alm_client_matches_the_seed_document() -> None:
    if not SEED_DOC.is_file():
        pytest.skip(
            f"the seed document {SEED_DOC} is not beside the repository; the embedded copy was checked"
        )
    check_against(parse_signatures(SEED_DOC.read_text(encoding="utf-8")))


def test_the_embedded_copy_agrees_with_the_seed_document() -> None:
    if not SEED_DOC.is_file():
        pytest.skip(f"the seed document {SEED_DOC} is not beside the repository")
    assert parse_signatures(SEED_DOC.read_text(encoding="utf-8")) == parse_signatures(EMBEDDED)


def test_the_signature_parser_notices_a_difference() -> None:
    changed = EMBEDDED.replace("descending: bool = False", "descending: bool = True")

    with pytest.raises(AssertionError):
        check_against(parse_signatures(changed))
