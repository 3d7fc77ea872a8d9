"""MCP over HTTP as an OAuth 2.1 resource server, against a local issuer on loopback.

The issuer (`tests.mcp.issuer`) makes its keys in the test and serves its metadata and JWKS over
real HTTP; alm-bot discovers the JWKS from the metadata and validates the tokens the issuer signs.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
from starlette.testclient import TestClient

from alm_bot.actor import Actor
from alm_bot.config import Settings
from alm_bot.errors import ConfigError, NotAllowed
from alm_bot.mcp.auth import check_http_exposure
from alm_bot.mcp.http import mcp_http_app
from alm_bot.mcp.issuer_keys import IssuerKeys, metadata_urls
from alm_bot.mcp.oauth import caller_from_claims
from alm_bot.sandbox import Sandbox
from alm_bot.services import Services
from tests.live import WAIT, eventually, serving
from tests.live import mcp_client as connect
from tests.mcp.calls import ok
from tests.mcp.issuer import AUDIENCE, METADATA_PATH, LocalIssuer, new_key
from tests.mcp.sandboxed import sandbox_settings, sync_posts
from tests.mcp.test_mcp_http import initialize
from tests.processes import clean_env, spawn_alm_bot

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def closed_port() -> int:
    with socket.socket() as probe:  # bound and closed again: nobody listens there
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def issuer() -> AsyncIterator[LocalIssuer]:
    local = LocalIssuer()
    async with serving(local.app) as base:
        local.url = base
        yield local


@pytest.fixture
def settings(tmp_path: Path, issuer: LocalIssuer) -> Settings:
    return sandbox_settings(
        tmp_path, ALM_BOT_MCP_OAUTH_ISSUER=issuer.url, ALM_BOT_MCP_OAUTH_AUDIENCE=AUDIENCE
    )


@pytest.fixture
async def base(services: Services, settings: Settings) -> AsyncIterator[str]:
    async with serving(mcp_http_app(services, settings)) as served:
        yield served


@pytest.fixture
def url(base: str) -> str:
    return f"{base}/mcp"


async def test_the_protected_resource_metadata_names_the_issuer(base: str, issuer: LocalIssuer) -> None:
    async with httpx2.AsyncClient() as http:
        response = await http.get(f"{base}{METADATA_PATH}")
    assert response.status_code == 200
    metadata = response.json()
    assert metadata["resource"] == AUDIENCE
    assert metadata["authorization_servers"] == [issuer.url]
    assert metadata["scopes_supported"] == ["alm:read", "alm:request"]


async def test_a_request_without_a_token_gets_a_challenge_pointing_at_the_metadata(url: str) -> None:
    response = await initialize(url)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'resource_metadata="https://alm-bot.test/.well-known/oauth-protected-resource/mcp"' in challenge


async def test_a_valid_token_acts_as_the_slack_user_it_names(
    url: str, issuer: LocalIssuer, services: Services, sandbox: Sandbox
) -> None:
    async with connect(url, issuer.token()) as client:
        outcome = await ok(client, "alm_sync_models", {"source_model": "dev", "target_model": "prod"})
    request = await services.ops.get_request(outcome["request_id"])
    assert (request.requester_id, request.requester_name, request.origin) == (
        "U0OAUTHADA",
        "Ada Lovelace",
        "mcp",
    )
    assert outcome["status"] == "awaiting_approval"
    assert sync_posts(sandbox) == []


async def test_four_eyes_knows_the_oauth_requester_when_they_try_to_approve_in_slack(
    url: str, issuer: LocalIssuer, services: Services
) -> None:
    """U0APPROVER1 is an approver, but not of their own request made through an assistant."""
    async with connect(url, issuer.token(slack_user_id="U0APPROVER1")) as client:
        outcome = await ok(client, "alm_sync_models", {"source_model": "dev", "target_model": "prod"})
    in_slack = Actor("U0APPROVER1", "Approver One", "slack")
    with pytest.raises(NotAllowed):
        await services.ops.requests.decide(outcome["request_id"], actor=in_slack, approve=True)
    other = Actor("U0APPROVER2", "Approver Two", "slack")
    decided = await services.ops.requests.decide(outcome["request_id"], actor=other, approve=True)
    assert decided.decided_by_id == "U0APPROVER2"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("expired", "it has expired"),
        ("wrong audience", "not issued for this server (aud)"),
        ("wrong issuer", "another issuer (iss)"),
        ("unknown key", "does not publish"),
        ("no slack user id", "'slack_user_id' is missing or not a Slack user id"),
        ("not a jwt", "DecodeError"),
    ],
)
async def test_a_bad_token_is_refused_and_the_log_says_why(
    url: str, issuer: LocalIssuer, case: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    token = {
        "expired": lambda: issuer.token(expires_in=-120),
        "wrong audience": lambda: issuer.token(audience="https://other.example/mcp"),
        "wrong issuer": lambda: issuer.token(issuer="https://evil.example"),
        "unknown key": lambda: issuer.token(key=new_key()),
        "no slack user id": lambda: issuer.token(slack_user_id=None),
        "not a jwt": lambda: "a" * 40,
    }[case]()
    response = await initialize(url, Authorization=f"Bearer {token}")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    refusals = [r.getMessage() for r in caplog.records if r.name == "alm_bot.mcp.oauth"]
    assert any(reason in m for m in refusals), refusals
    assert not any(token in m for m in refusals)


async def test_behind_a_proxy_that_keeps_the_host_the_public_host_is_served(
    url: str, issuer: LocalIssuer
) -> None:
    token = f"Bearer {issuer.token()}"
    through_proxy = await initialize(url, Authorization=token, Host="alm-bot.test")
    foreign = await initialize(url, Authorization=token, Host="evil.example")
    assert through_proxy.status_code == 200
    assert foreign.status_code == 421


async def test_a_token_with_several_audiences_including_this_one_is_accepted(
    url: str, issuer: LocalIssuer
) -> None:
    token = issuer.token(audience=["https://other.example", AUDIENCE])
    response = await initialize(url, Authorization=f"Bearer {token}")
    assert response.status_code == 200


async def test_a_token_without_the_read_scope_is_refused_with_insufficient_scope(
    url: str, issuer: LocalIssuer
) -> None:
    response = await initialize(url, Authorization=f"Bearer {issuer.token(scope='openid')}")
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


async def test_a_read_only_token_reads_but_cannot_ask_for_a_change(
    url: str, issuer: LocalIssuer, sandbox: Sandbox
) -> None:
    async with connect(url, issuer.token(scope="alm:read")) as client:
        models = await ok(client, "alm_list_models")
        refused = await client.call_tool("alm_sync_models", {"source_model": "dev", "target_model": "prod"})
    assert models["models"]
    assert refused.is_error
    assert refused.structured_content is None
    text = refused.content[0].text  # type: ignore[union-attr]
    assert "alm_sync_models" in text
    assert "needs the OAuth scope alm:request" in text
    assert sync_posts(sandbox) == []


async def test_unknown_keys_refetch_the_jwks_at_most_once_per_bound(issuer: LocalIssuer) -> None:
    keys = IssuerKeys(issuer.url, min_refresh=3600)
    first_kid = issuer.published[0][0]
    assert (await keys.key_for(first_kid)) is not None
    for _ in range(5):
        assert (await keys.key_for("made-up")) is None
    assert issuer.jwks_fetches == 1
    rotating = IssuerKeys(issuer.url, min_refresh=0)
    assert (await rotating.key_for(first_kid)) is not None
    issuer.rotate()
    new_kid = issuer.published[0][0]
    assert (await rotating.key_for(new_kid)) is not None
    assert issuer.jwks_fetches == 3


async def test_openid_connect_discovery_finds_the_keys_too() -> None:
    oidc = LocalIssuer(discovery="oidc")
    async with serving(oidc.app) as base:
        oidc.url = base
        keys = IssuerKeys(base)
        assert (await keys.key_for(oidc.published[0][0])) is not None


async def test_a_configured_jwks_url_needs_no_metadata(issuer: LocalIssuer) -> None:
    keys = IssuerKeys("https://issuer.invalid", jwks_url=f"{issuer.url}/jwks")
    assert (await keys.key_for(issuer.published[0][0])) is not None


async def test_metadata_naming_another_issuer_yields_no_keys(issuer: LocalIssuer) -> None:
    keys = IssuerKeys(f"{issuer.url}/")  # not the issuer's own spelling
    assert (await keys.key_for(issuer.published[0][0])) is None


async def test_an_unreachable_issuer_refuses_tokens_without_failing_the_server(
    tmp_path: Path, services: Services
) -> None:
    settings = sandbox_settings(
        tmp_path,
        ALM_BOT_MCP_OAUTH_ISSUER=f"http://127.0.0.1:{closed_port()}",
        ALM_BOT_MCP_OAUTH_AUDIENCE=AUDIENCE,
    )
    async with serving(mcp_http_app(services, settings)) as served:
        response = await initialize(f"{served}/mcp", Authorization="Bearer x.y.z")
    assert response.status_code == 401


def test_metadata_urls_follow_rfc_8414_then_openid_connect() -> None:
    assert metadata_urls("https://id.example/realms/alm") == [
        "https://id.example/.well-known/oauth-authorization-server/realms/alm",
        "https://id.example/realms/alm/.well-known/openid-configuration",
    ]


def test_the_identity_claim_must_be_a_slack_user_id() -> None:
    claims = {"slack_user_id": "U0ADA", "email": "ada@example.com", "upn": "ada"}
    assert caller_from_claims(claims, "slack_user_id") is not None
    assert caller_from_claims(claims, "upn") is None
    assert caller_from_claims({"slack_user_id": "U0ADA"}, "slack_user_id").name == "U0ADA"  # type: ignore[union-attr]


def test_oauth_on_an_exposed_bind_needs_the_audience(tmp_path: Path) -> None:
    settings = sandbox_settings(tmp_path, ALM_BOT_MCP_OAUTH_ISSUER="https://id.example")
    assert "OAuth" in check_http_exposure("0.0.0.0", settings)  # noqa: S104 — allowed with OAuth
    with pytest.raises(ConfigError) as refused:
        mcp_http_app(object(), settings, host="0.0.0.0")  # type: ignore[arg-type]  # noqa: S104
    assert "ALM_BOT_MCP_OAUTH_AUDIENCE" in str(refused.value)


def test_oauth_on_loopback_defaults_the_audience_to_the_bind_url(tmp_path: Path) -> None:
    settings = sandbox_settings(tmp_path, ALM_BOT_MCP_OAUTH_ISSUER="https://id.example")
    app = mcp_http_app(object(), settings, host="127.0.0.1", port=8123)  # type: ignore[arg-type]
    metadata = TestClient(app).get(METADATA_PATH).json()
    assert metadata["resource"] == "http://127.0.0.1:8123/mcp"
    assert metadata["authorization_servers"] == ["https://id.example"]


async def test_alm_bot_serve_publishes_the_metadata_and_takes_oauth_tokens(
    tmp_path: Path, issuer: LocalIssuer
) -> None:
    env = clean_env(
        ALM_BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'alm-bot.db'}",
        ALM_BOT_MCP_OAUTH_ISSUER=issuer.url,
        ALM_BOT_MCP_OAUTH_AUDIENCE=AUDIENCE,
    )
    async with spawn_alm_bot("serve", "--sandbox", "--port", "0", env=env, cwd=tmp_path) as serve:
        assert (await serve.line(r"^\s*MCP auth:\s+OAuth, access tokens from (\S+)$")).group(1) == issuer.url
        served = (await serve.line(r"^alm-bot is running on (http://\S+)$")).group(1)
        metadata: dict[str, object] = {}

        async def published() -> bool:
            try:
                async with httpx2.AsyncClient(timeout=WAIT) as http:
                    response = await http.get(f"{served}{METADATA_PATH}")
            except httpx2.ConnectError:  # bound, not listening yet
                return False
            metadata.update(response.json())
            return True

        await eventually(published, "serve to answer the metadata")
        async with connect(f"{served}/mcp", issuer.token()) as client:
            models = await ok(client, "alm_list_models")
    assert metadata["authorization_servers"] == [issuer.url]
    assert models["models"]


@pytest.mark.parametrize("variable", ["ALM_BOT_MCP_OAUTH_AUDIENCE", "ALM_BOT_MCP_OAUTH_JWKS_URL"])
def test_an_oauth_setting_without_the_issuer_is_a_configuration_problem(
    tmp_path: Path, variable: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        sandbox_settings(tmp_path, **{variable: "https://alm-bot.example.com/mcp"})
    assert refused.value.problems == [
        f"environment: {variable}: is set but ALM_BOT_MCP_OAUTH_ISSUER is not: "
        "set the issuer too, or unset it"
    ]
