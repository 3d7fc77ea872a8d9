"""How a finished Anaplan task ended, in words: the one place that judges and words a task's outcome.

A failed sync is HTTP 200 with ``taskState: COMPLETE`` and ``result.successful: false`` (reference §6);
a cancelled task, a COMPLETE without a result and a state Anaplan may add are failures too. `verdict_of`
turns any task into a `Verdict` (None while it runs): Anaplan's title and detail, or ours where Anaplan
gave none. Everyone who says how a task ended — ``wait_for_completion`` (`TaskFailed`), the watcher
(the stored result), the Slack and MCP renderers — reads it from here, and `reason_text` is the one
way to put title and detail on one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from alm_bot.anaplan.models import CompletedReportTask, CompletedSyncTask, PendingTask

__all__ = ["RUNNING_STATES", "Verdict", "reason_text", "verdict_of"]

RUNNING_STATES: Final = frozenset({"NOT_STARTED", "IN_PROGRESS"})
"""Anaplan may add states; any state outside these means the task stopped running."""

AnyTask = PendingTask | CompletedSyncTask | CompletedReportTask


@dataclass(frozen=True, slots=True)
class Verdict:
    """How a task ended: ``successful``, and for a failure a title and (maybe) a detail sentence."""

    successful: bool
    title: str | None = None
    detail: str | None = None

    @property
    def reason(self) -> str | None:
        """Title and detail on one line, or None for a success."""
        return None if self.successful else reason_text(self.title, self.detail)


def verdict_of(task: AnyTask, *, what: str = "task") -> Verdict | None:
    """The verdict on a task that stopped running; None while it runs. ``what`` names it ("sync")."""
    if task.task_state in RUNNING_STATES:
        return None
    state = task.task_state
    if isinstance(task, CompletedSyncTask | CompletedReportTask) and state == "COMPLETE":
        if task.result.successful:
            return Verdict(True)
        error = task.result.error
        title = error.title.strip() if error and error.title.strip() else f"The {what} failed"
        detail = error.message_text if error else ""
        if error and error.subtitle:
            detail = f"{detail} ({error.subtitle})" if detail else error.subtitle
        return Verdict(False, title, _sentence(detail) or None)
    if state in ("CANCELLED", "CANCELLING"):
        return Verdict(
            False,
            f"The {what} was cancelled",
            "Anaplan cancelled the task before it finished, so nothing was applied.",
        )
    if state == "COMPLETE":
        return Verdict(
            False,
            f"The {what} finished without a result",
            "Anaplan reported it complete but sent no result; check the task in Anaplan.",
        )
    return Verdict(
        False,
        f"The {what} ended in an unexpected state",
        f"Anaplan reported the state {state!r}; check the task in Anaplan.",
    )


def reason_text(title: str | None, detail: str | None) -> str | None:
    """``title — detail`` (either may be missing); None when both are."""
    return " — ".join(t.strip() for t in (title, detail) if t and t.strip()) or None


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?")) else f"{text}."
