"""More production models for releases: copies of FP&A PROD (same workspace, same revision history)."""

from __future__ import annotations

import dataclasses

from alm_bot.sandbox import Sandbox, seed

__all__ = ["add_prod_copies", "copy_id"]


def copy_id(number: int) -> str:
    return f"C0FFEE{number:026X}"


def add_prod_copies(sandbox: Sandbox, count: int) -> dict[str, dict[str, str]]:
    """Add ``count`` copies of FP&A PROD to the sandbox; returns their ``[models]`` config (prod-1, …)."""
    prod = sandbox.world.models[seed.PROD_MODEL_ID]
    config: dict[str, dict[str, str]] = {}
    for number in range(1, count + 1):
        model_id = copy_id(number)
        sandbox.world.models[model_id] = dataclasses.replace(
            prod, id=model_id, name=f"FP&A PROD {number}", revision_ids=list(prod.revision_ids)
        )
        config[f"prod-{number}"] = {"id": model_id}
    return config
