"""The Anaplan part of the configuration: regions, one complete login method, the new files and keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from alm_bot.config import load_settings
from alm_bot.errors import ConfigError

KEY = Fernet.generate_key().decode()


def problems_of(env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(env=env)
    return caught.value.problems


def file(tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(b"x")
    return str(path)


def test_a_region_sets_the_api_auth_and_oauth_urls() -> None:
    settings = load_settings(env={"ANAPLAN_REGION": "eu3"})

    assert settings.anaplan_api_url == "https://eu3.api.anaplan.com/2/0"
    assert settings.anaplan_auth_url == "https://eu3.auth.anaplan.com"
    assert settings.anaplan_oauth_url == "https://eu3.app.anaplan.com"


@pytest.mark.parametrize(
    ("region", "api", "oauth"),
    [
        ("us1", "https://api.anaplan.com/2/0", "https://us1a.app.anaplan.com"),
        ("ap1", "https://api.anaplan.com/2/0", "https://us1a.app.anaplan.com"),
        ("au1", "https://au1a.api2.anaplan.com/2/0", "https://au1a.app2.anaplan.com"),
        ("ca1", "https://ca1a.api.anaplan.com/2/0", "https://ca1a.app.anaplan.com"),
    ],
)
def test_legacy_and_special_regions(region: str, api: str, oauth: str) -> None:
    settings = load_settings(env={"ANAPLAN_REGION": region})

    assert (settings.anaplan_api_url, settings.anaplan_oauth_url) == (api, oauth)


def test_an_explicit_url_wins_over_the_region() -> None:
    settings = load_settings(env={"ANAPLAN_REGION": "eu3", "ANAPLAN_API_URL": "http://127.0.0.1:8765/2/0"})

    assert settings.anaplan_api_url == "http://127.0.0.1:8765/2/0"
    assert settings.anaplan_auth_url == "https://eu3.auth.anaplan.com"


def test_an_unknown_region_is_one_problem_listing_the_known_ones() -> None:
    (problem,) = problems_of({"ANAPLAN_REGION": "jp1"})

    assert problem.startswith("environment: ANAPLAN_REGION: Input should be 'us1'")
    assert "'ap1'" in problem


def test_a_pkcs12_file_alone_is_a_complete_certificate_login(tmp_path: Path) -> None:
    settings = load_settings(
        env={"ANAPLAN_CERTIFICATE": file(tmp_path, "alm.p12"), "ANAPLAN_PRIVATE_KEY_PASSWORD": "pw"}
    )

    assert settings.anaplan_credentials_present
    assert settings.anaplan_cert_format == "v2"


def test_a_pem_certificate_still_needs_its_key(tmp_path: Path) -> None:
    assert problems_of({"ANAPLAN_CERTIFICATE": file(tmp_path, "alm.pem")}) == [
        "environment: ANAPLAN_PRIVATE_KEY: is missing: ANAPLAN_CERTIFICATE is set"
    ]


def test_oauth_needs_the_secret_key_and_is_one_method_only(tmp_path: Path) -> None:
    assert problems_of({"ANAPLAN_OAUTH_CLIENT_ID": "client"}) == [
        "environment: ALM_BOT_SECRET_KEY: is missing: ANAPLAN_OAUTH_CLIENT_ID is set"
    ]
    assert problems_of(
        {
            "ANAPLAN_USERNAME": "ada",
            "ANAPLAN_PASSWORD": "pw",
            "ANAPLAN_OAUTH_CLIENT_ID": "c",
            "ALM_BOT_SECRET_KEY": KEY,
        }
    ) == [
        "environment: ANAPLAN_OAUTH_CLIENT_ID: both basic (ANAPLAN_USERNAME) and OAuth credentials are set: "
        "keep one method"
    ]
    assert load_settings(
        env={"ANAPLAN_OAUTH_CLIENT_ID": "c", "ALM_BOT_SECRET_KEY": KEY}
    ).anaplan_credentials_present


def test_a_secret_key_that_is_not_a_fernet_key_is_refused_without_echoing_it() -> None:
    (problem,) = problems_of({"ANAPLAN_OAUTH_CLIENT_ID": "c", "ALM_BOT_SECRET_KEY": "hunter2-not-a-key"})

    assert problem.startswith("environment: ALM_BOT_SECRET_KEY: is not a Fernet key")
    assert "hunter2" not in problem


def test_cert_format_ca_bundle_and_proxy_are_checked(tmp_path: Path) -> None:
    problems = problems_of(
        {
            "ANAPLAN_CERT_FORMAT": "v3",
            "ANAPLAN_CA_BUNDLE": str(tmp_path / "missing.pem"),
            "ANAPLAN_PROXY": "socks://proxy",
        }
    )

    assert sorted(problems) == sorted(
        [
            "environment: ANAPLAN_CERT_FORMAT: Input should be 'v1' or 'v2'",
            f"environment: ANAPLAN_CA_BUNDLE: {str(tmp_path / 'missing.pem')!r} is not an existing file",
            "environment: ANAPLAN_PROXY: 'socks://proxy' is not an http(s) URL",
        ]
    )
