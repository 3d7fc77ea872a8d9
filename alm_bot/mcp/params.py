"""The parameter types of the MCP tools, each with the description an assistant reads.

Only shape is checked here (lengths, enums, bounds), so that a malformed call is refused with a
message naming the argument before anything runs. What a value *means* (does the model exist, is
the id well formed for Anaplan, is the revision syncable) is the core's business, checked once there.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field

__all__ = [
    "MAX_WAIT_CAP",
    "MaxWait",
    "ModelName",
    "RequestId",
    "RevisionName",
    "RevisionRefParam",
    "SourceModel",
    "SourceRevision",
    "TargetModel",
    "TaskId",
    "WaitForCompletion",
]

MAX_WAIT_CAP: Final = 300
"""Longest a tool call may wait for an Anaplan task, in seconds; after that it returns a handle."""

_MODEL_HOW: Final = "By alias (e.g. 'prod'), 32-character id, or exact name (see alm_list_models)."
# Short on purpose: it is repeated in ~20 parameters of tools/list, and the server instructions
# already say how models are named.

ModelName = Annotated[str, Field(min_length=1, max_length=200, description=f"The model. {_MODEL_HOW}")]
SourceModel = Annotated[
    str,
    Field(min_length=1, max_length=200, description=f"The model to take the revision from. {_MODEL_HOW}"),
]
TargetModel = Annotated[
    str,
    Field(
        min_length=1, max_length=200, description=f"The model that would receive the revision. {_MODEL_HOW}"
    ),
]
SourceRevision = Annotated[
    str | None,
    Field(
        max_length=200,
        description="The source revision, by id or exact name. Omit it to use the newest revision the target "
        "can take (see alm_get_syncable_revisions).",
    ),
]
RevisionRefParam = Annotated[
    str, Field(min_length=1, max_length=200, description="The revision, by id or exact name.")
]
RevisionName = Annotated[
    str,
    Field(min_length=1, max_length=60, description="Name of the new revision tag (at most 60 characters)."),
]
TaskId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="The Anaplan task id (32 hexadecimal characters) returned when the task was started.",
    ),
]
RequestId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        description="The request id alm-bot gave, like R7K3QX2 (case-insensitive).",
    ),
]
WaitForCompletion = Annotated[
    bool,
    Field(
        description="Wait (with progress) up to max_wait_seconds for the Anaplan task to finish; "
        "if it is still running then, the result gives the task id to check later."
    ),
]
MaxWait = Annotated[
    int,
    Field(
        ge=0,
        le=MAX_WAIT_CAP,
        description="Seconds to wait at most, with wait_for_completion.",
    ),
]
