"""How strict and how sparse the sandbox is: the switches for what Anaplan's documentation leaves open.

The defaults are the documented shapes (reference §4–§6): tasks go IN_PROGRESS → COMPLETE with no
``progress`` field, ``currentStep`` only on some tasks, results in the minimal documented shapes on
some tasks and the rich ones (what anaplan-sdk's live tests imply) on others, revision lists without
``appliedOn``/``appliedBy`` (APIARY's example), deleted models in ``appliedToModels`` without a
``modelId``, JSON bodies only with ``Content-Type: application/json`` (415 otherwise), ``Accept``
honoured (406), 409 "model busy" during a sync, and ``meta.paging`` ``next``/``previous`` links.

Which task gets which shape is drawn from ``seed`` and the task's creation number, so a run is
reproducible: the same seed and the same sequence of calls give the same mix. Each switch can pin one
side (``"always"``/``"never"``, ``"rich"``/``"minimal"``) so tests can exercise both.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

__all__ = ["Fidelity"]

Mix = Literal["mixed", "always", "never"]
Shapes = Literal["mixed", "rich", "minimal"]


@dataclass(frozen=True, slots=True)
class Fidelity:
    """The sandbox's strictness switches (see the module docstring)."""

    current_step: Mix = "mixed"
    """Whether task info carries ``currentStep``: per task (mixed), always, or never."""
    result_shapes: Shapes = "mixed"
    """``result`` of finished tasks: per task (mixed), always with revision ids (rich), or minimal."""
    revision_list_applied: bool = False
    """``GET …/alm/revisions`` entries carry ``appliedOn``/``appliedBy`` (APIARY's example has neither)."""
    deleted_model_ids: bool = False
    """``appliedToModels`` entries of deleted models keep their ``modelId``."""
    require_json_content_type: bool = True
    """JSON POST/PUT bodies without ``Content-Type: application/json`` are refused with 415."""
    honour_accept: bool = True
    """JSON endpoints answer 406 to an ``Accept`` that rules out ``application/json``."""
    model_busy: bool = True
    """409 for a sync into, or a status change of, a model that a sync is running into."""
    paging_links: bool = True
    """``meta.paging`` carries ``next``/``previous`` URLs when there is such a page."""
    max_page_size: int = 5000
    """The silent cap on ``limit`` (Anaplan's is 5000); a small one makes clients walk many pages."""
    strict_auth: bool = False
    """Certificate logins must use ``encodedDataFormat: "v2"``; the v1 body is refused."""
    seed: int = 0
    """Draws the per-task mix; the same seed gives the same mix."""

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Refuse values outside each switch's choices (``ValueError``)."""
        choices = {
            "current_step": ("mixed", "always", "never"),
            "result_shapes": ("mixed", "rich", "minimal"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"'{name}' must be one of {', '.join(allowed)}.")
        if self.max_page_size < 1:
            raise ValueError("'max_page_size' must be at least 1.")

    def _draw(self, what: str, task_seq: int) -> bool:
        digest = hashlib.sha256(f"{self.seed}:{what}:{task_seq}".encode()).digest()
        return digest[0] < 128

    def shows_current_step(self, task_seq: int) -> bool:
        if self.current_step == "mixed":
            return self._draw("step", task_seq)
        return self.current_step == "always"

    def rich_result(self, task_seq: int) -> bool:
        if self.result_shapes == "mixed":
            return self._draw("result", task_seq)
        return self.result_shapes == "rich"
