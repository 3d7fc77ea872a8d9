"""Small helpers shared by the sandbox tests: headers, bodies and URLs of common calls."""

from __future__ import annotations

from typing import Any, Final

import httpx2

from alm_bot.sandbox import seed

FROZEN_NOW: Final = 1_780_000_000.0
"""2026-05-28T20:26:40Z — what the test sandbox's clock says until a test advances it."""


JSON_BODY: Final = {"Content-Type": "application/json"}


def bearer(token: str, scheme: str = "AnaplanAuthToken") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


def alm(model_id: str, rest: str) -> str:
    return f"/2/0/models/{model_id}/alm/{rest}"


def pair(source_revision: str, target_revision: str, source_model: str = seed.DEV_MODEL_ID) -> dict[str, str]:
    return {
        "sourceRevisionId": source_revision,
        "sourceModelId": source_model,
        "targetRevisionId": target_revision,
    }


async def start(
    client: httpx2.AsyncClient, headers: dict[str, str], target: str, collection: str, body: dict[str, Any]
) -> str:
    """POST a task, insist on 201, return its URL (the Location header)."""
    response = await client.post(alm(target, collection), json=body, headers=headers)
    assert response.status_code == 201, response.text
    location: str = response.headers["location"]
    return location


async def task(client: httpx2.AsyncClient, headers: dict[str, str], url: str) -> dict[str, Any]:
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["task"]
    return body


async def latest_revision_id(client: httpx2.AsyncClient, headers: dict[str, str], model_id: str) -> str:
    response = await client.get(alm(model_id, "latestRevision"), headers=headers)
    revision_id: str = response.json()["revisions"][0]["id"]
    return revision_id
