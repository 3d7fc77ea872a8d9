"""Tools about models and their revisions: list, read revisions, create a revision."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from alm_bot.mcp.boundary import tool_errors
from alm_bot.mcp.deps import ToolDeps
from alm_bot.mcp.params import ModelName, RevisionName, RevisionRefParam, SourceModel, TargetModel
from alm_bot.mcp.render import model_out, model_ref, model_revision_out, revision_out
from alm_bot.mcp.schemas import LatestRevision, ModelList, ModelRevisionList, RevisionList, RevisionOut
from alm_bot.mcp.toolspec import ADDS_IN_ANAPLAN, READS_ANAPLAN, ToolSpec

__all__ = ["model_tools"]

SortBy = Literal["id", "name", "applied_on", "created_on"]


def model_tools(deps: ToolDeps) -> list[ToolSpec]:
    async def alm_list_models(
        text_filter: Annotated[
            str | None,
            Field(
                max_length=200, description="Only models whose name or alias contains this text (any case)."
            ),
        ] = None,
    ) -> ModelList:
        """List the Anaplan models alm-bot can see, with their alias, id, state and protection.

        Start here when you do not know how a model is named. Every other tool accepts a model by
        its configured alias (e.g. 'prod'), its 32-character id, or its exact name. A model marked
        protected needs a second person's approval in Slack for syncs into it and for online/offline
        changes.
        """
        with tool_errors():
            models = await (await deps.ops()).list_models(text_filter or None)
        return ModelList(models=[model_out(m) for m in models])

    async def alm_get_revisions(
        model: ModelName,
        sort_by: Annotated[
            SortBy | None, Field(description="Sort by this field; omit for Anaplan's order.")
        ] = None,
        descending: Annotated[bool, Field(description="Sort in descending order.")] = False,
    ) -> RevisionList:
        """List the revision tags of a model (a revision is a named snapshot of its structure).

        Use it to see a model's history, or to find a revision's id or name. The model may be named by
        alias, id or exact name.
        """
        with tool_errors():
            ops = await deps.ops()
            info = await ops.resolve(model)
            revisions = await ops.get_revisions(info.id, sort_by=sort_by, descending=descending)
        return RevisionList(model=model_ref(info), revisions=[revision_out(r) for r in revisions])

    async def alm_get_latest_revision(model: ModelName) -> LatestRevision:
        """Get the newest revision tag of a model, or null if it has none.

        For a production model this is the revision it is currently at. The model may be named by
        alias, id or exact name.
        """
        with tool_errors():
            ops = await deps.ops()
            info = await ops.resolve(model)
            latest = await ops.get_latest_revision(info.id)
        return LatestRevision(model=model_ref(info), revision=revision_out(latest) if latest else None)

    async def alm_get_syncable_revisions(
        source_model: SourceModel, target_model: TargetModel
    ) -> RevisionList:
        """List the revisions of the source model that the target model can be synced to, newest first.

        Use it before a sync or a comparison: an empty list means there is nothing to sync (the target is
        already current, or the models do not share a history). Models may be named by alias, id or
        exact name.
        """
        with tool_errors({"source": "source_model", "target": "target_model"}):
            ops = await deps.ops()
            target = await ops.resolve(target_model)
            revisions = await ops.get_syncable_revisions(source_model, target.id)
        return RevisionList(model=model_ref(target), revisions=[revision_out(r) for r in revisions])

    async def alm_get_models_for_revision(model: ModelName, revision: RevisionRefParam) -> ModelRevisionList:
        """List every model a revision has been applied to (where, when and by whom).

        Pass a model that has the revision and the revision's id or exact name. Models may be named by
        alias, id or exact name.
        """
        with tool_errors():
            ops = await deps.ops()
            info = await ops.resolve(model)
            applied = await ops.get_models_for_revision(info.id, revision)
        return ModelRevisionList(
            model=model_ref(info), revision=revision, models=[model_revision_out(m) for m in applied]
        )

    async def alm_create_revision(
        model: ModelName,
        name: RevisionName,
        description: Annotated[
            str, Field(max_length=250, description="What the revision contains (at most 250 characters).")
        ] = "",
    ) -> RevisionOut:
        """Create a revision tag on a development (standard-mode) model, capturing its current structure.

        Do this on the source model before syncing: only tagged structure can be synced to other
        models. It changes no model's data or structure. Deployed (production) models cannot take a
        revision tag. The model may be named by alias, id or exact name.
        """
        with tool_errors():
            ops = await deps.ops()
            revision = await ops.immediate.create_revision(model, name, description, actor=deps.actor())
        return revision_out(revision)

    return [
        ToolSpec(alm_list_models, "List models", READS_ANAPLAN),
        ToolSpec(alm_get_revisions, "Get a model's revisions", READS_ANAPLAN),
        ToolSpec(alm_get_latest_revision, "Get a model's latest revision", READS_ANAPLAN),
        ToolSpec(alm_get_syncable_revisions, "Get syncable revisions", READS_ANAPLAN),
        ToolSpec(alm_get_models_for_revision, "Get models that have a revision", READS_ANAPLAN),
        ToolSpec(alm_create_revision, "Create a revision tag", ADDS_IN_ANAPLAN),
    ]
