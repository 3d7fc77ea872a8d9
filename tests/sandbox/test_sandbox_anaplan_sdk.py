"""anaplan-sdk, a client written by someone else, works against the sandbox unchanged.

The SDK hard-codes ``https://api.anaplan.com`` and ``https://auth.anaplan.com`` but passes extra
keyword arguments to its ``httpx2.AsyncClient``; an ``ASGITransport`` therefore routes both hosts
into the sandbox app, which serves the API and the auth service on one host. The SDK logs in eagerly
with a separate client of its own, so the tests hand it a sandbox token (plus credentials, which it
uses to log in again — through the transport — when that token is refused).

The sandbox stays strict (415 without ``Content-Type: application/json``, 406, 409, paging links)
but its uncertain shapes are pinned to the rich side, ``SDK_SHAPES``: the SDK's models require
``appliedOn``/``appliedBy`` on every revision, ``modelId`` on every ``appliedToModels`` entry,
``currentStep`` on a pending task and both revision ids in a result (reference §9.4). Its live tests
pass against Anaplan, so Anaplan evidently sends those often; the sparse side is shown tripping it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pydantic import ValidationError
from sandbox_calls import FROZEN_NOW

from alm_bot.sandbox import Sandbox, create_app, seed
from alm_bot.sandbox.fidelity import Fidelity

anaplan_sdk = pytest.importorskip("anaplan_sdk")
from anaplan_sdk.exceptions import AnaplanActionError  # noqa: E402

pytestmark = pytest.mark.anyio

SDK_SHAPES = Fidelity(
    current_step="always", result_shapes="rich", revision_list_applied=True, deleted_model_ids=True
)
SENT: list[httpx2.Request] = []
"""Every request the SDK's API client sent in the current test (its auth client logs in separately)."""


@pytest.fixture(autouse=True)
def _forget_requests() -> None:
    SENT.clear()


@pytest.fixture
def live_sandbox() -> Sandbox:
    """Tasks complete at once: the SDK polls in a loop until COMPLETE, without a deadline."""
    return Sandbox(task_duration=0.0, rate_limit_per_second=None, fidelity=SDK_SHAPES)


async def _remember(request: httpx2.Request) -> None:
    SENT.append(request)


def sdk(sandbox: Sandbox, model_id: str = seed.TEST_MODEL_ID, **auth: Any) -> Any:
    credentials = auth or {
        "token": sandbox.token_for(),
        "user_email": seed.ADMIN_USER,
        "password": seed.PASSWORD,
    }
    return anaplan_sdk.AsyncClient(
        workspace_id=seed.WORKSPACE_ID,
        model_id=model_id,
        status_poll_delay=0,
        retry_count=1,
        transport=httpx2.ASGITransport(create_app(sandbox)),
        event_hooks={"request": [_remember]},
        **credentials,
    )


async def test_the_sdk_discovers_workspaces_and_models(live_sandbox: Sandbox) -> None:
    client = sdk(live_sandbox)

    workspaces = await client.get_workspaces()
    workspace = await client.get_workspace()
    models = await client.get_models()
    in_workspace = await client.get_models(only_in_workspace=True)
    model = await client.get_model()

    assert {w.name for w in workspaces} == {"FP&A", "Sales Ops"}
    assert workspace.size_allowance == 10 * 1024**3
    assert len(models) == 6
    assert len(in_workspace) == 5
    assert (model.name, model.active_state, model.model_transaction_running) == (
        "FP&A TEST",
        "PRODUCTION",
        False,
    )


async def test_the_sdk_reads_revisions(live_sandbox: Sandbox) -> None:
    test = sdk(live_sandbox)

    history = await test.alm.get_revisions(sort_by="created_on", descending=True)
    latest = await test.alm.get_latest_revision()
    syncable = await test.alm.get_syncable_revisions(seed.DEV_MODEL_ID)
    applied = await test.alm.get_models_for_revision(seed.R1_ID)

    assert [r.id for r in history] == [seed.R3_ID, seed.R2_ID, seed.R1_ID]
    assert latest is not None
    assert latest.id == seed.R3_ID
    assert [r.id for r in syncable] == [seed.R4_ID]
    assert applied[0].id == seed.DEV_MODEL_ID
    assert any(m.deleted for m in applied)


async def test_the_sdk_syncs_and_waits_for_completion(live_sandbox: Sandbox) -> None:
    test = sdk(live_sandbox)

    done = await test.alm.sync_models(seed.R4_ID, seed.DEV_MODEL_ID, seed.R3_ID, wait_for_completion=True)

    assert done.task_state == "COMPLETE"
    assert done.result.successful is True
    assert (done.result.source_revision_id, done.result.target_revision_id) == (seed.R4_ID, seed.R3_ID)
    assert [t.id for t in await test.alm.get_sync_tasks()] == [done.id]
    latest = await test.alm.get_latest_revision()
    assert latest is not None
    assert latest.id == seed.R4_ID


async def test_the_sdk_sees_an_incompatible_sync_as_an_action_error(live_sandbox: Sandbox) -> None:
    test = sdk(live_sandbox)

    with pytest.raises(AnaplanActionError):
        await test.alm.sync_models(seed.R4_ID, seed.DEV_MODEL_ID, seed.R1_ID, wait_for_completion=True)


async def test_the_sdk_parses_a_pending_sync_task() -> None:
    sandbox = Sandbox(
        task_duration=3.0, rate_limit_per_second=None, clock=lambda: FROZEN_NOW, fidelity=SDK_SHAPES
    )

    pending = await sdk(sandbox).alm.sync_models(
        seed.R4_ID, seed.DEV_MODEL_ID, seed.R3_ID, wait_for_completion=False
    )

    assert pending.task_state == "IN_PROGRESS"
    assert pending.current_step


async def test_the_sdk_sends_json_bodies_as_application_json(live_sandbox: Sandbox) -> None:
    dev = sdk(live_sandbox, seed.DEV_MODEL_ID)

    await dev.alm.change_model_status("offline")
    await dev.alm.create_revision("R5 from the SDK", "")
    await sdk(live_sandbox).alm.sync_models(
        seed.R4_ID, seed.DEV_MODEL_ID, seed.R3_ID, wait_for_completion=False
    )

    writes = [r for r in SENT if r.method in ("POST", "PUT")]
    assert [r.method for r in writes] == ["PUT", "POST", "POST"]
    assert {r.headers["content-type"] for r in writes} == {"application/json"}
    assert {r.headers["accept"] for r in SENT} == {"*/*"}


async def test_the_sdk_trips_over_the_documented_sparse_revision_list() -> None:
    """APIARY's revision list has no appliedOn/appliedBy; the SDK's model requires them (§9.4)."""
    sparse = Sandbox(task_duration=0.0, rate_limit_per_second=None)

    with pytest.raises(ValidationError, match="appliedOn"):
        await sdk(sparse).alm.get_revisions()


async def test_the_sdk_creates_and_downloads_a_comparison_report(live_sandbox: Sandbox) -> None:
    test = sdk(live_sandbox)

    done = await test.alm.create_comparison_report(
        seed.R4_ID, seed.DEV_MODEL_ID, seed.R3_ID, wait_for_completion=True
    )
    report = await test.alm.get_comparison_report(done)

    assert done.result.report_file_url.endswith(f"/comparisonReports/{seed.R3_ID}/{seed.R4_ID}")
    assert report.startswith(b"Source Workspace\tFP&A")
    assert b"=== MODULES ADDED ===" in report


async def test_the_sdk_creates_a_comparison_summary(live_sandbox: Sandbox) -> None:
    test = sdk(live_sandbox)

    summary = await test.alm.create_comparison_summary(
        seed.R4_ID, seed.DEV_MODEL_ID, seed.R3_ID, wait_for_completion=True
    )

    assert (summary.totals.created, summary.totals.modified, summary.totals.deleted) == (6, 2, 0)
    assert summary.differences.line_items.created == 4
    assert summary.differences.line_items.created == 4
    assert summary.differences.modules.modified == 0


async def test_the_sdk_changes_online_status_and_creates_a_revision(live_sandbox: Sandbox) -> None:
    dev = sdk(live_sandbox, seed.DEV_MODEL_ID)

    await dev.alm.change_model_status("offline")
    offline = (await dev.get_model()).active_state
    await dev.alm.change_model_status("online")
    revision = await dev.alm.create_revision("R5 from the SDK", "made by anaplan-sdk")

    assert offline == "MAINTENANCE"
    assert (await dev.get_model()).active_state == "UNLOCKED"
    assert revision.creation_method == "User added revision via API"
    assert (await dev.alm.get_latest_revision()).id == revision.id


async def test_the_sdk_logs_in_again_with_basic_auth_when_its_token_is_refused(live_sandbox: Sandbox) -> None:
    client = sdk(live_sandbox, token="expired-token", user_email=seed.ADMIN_USER, password=seed.PASSWORD)

    model = await client.get_model()

    assert model.id == seed.TEST_MODEL_ID
    assert [e.path for e in live_sandbox.request_log] == [
        f"/2/0/models/{seed.TEST_MODEL_ID}",
        "/token/authenticate",
        f"/2/0/models/{seed.TEST_MODEL_ID}",
    ]


async def test_the_sdk_logs_in_again_with_a_certificate_when_its_token_is_refused(
    live_sandbox: Sandbox,
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.EMAIL_ADDRESS, seed.ADMIN_USER)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    client = sdk(
        live_sandbox,
        token="expired-token",
        certificate=cert.public_bytes(serialization.Encoding.PEM),
        private_key=pem_key,
    )

    models = await client.get_models()

    assert len(models) == 6
    assert [e.status for e in live_sandbox.request_log] == [401, 201, 200]
