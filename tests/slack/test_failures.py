"""When something outside the rules goes wrong, people hear about it — briefly, with a reference."""

from __future__ import annotations

import pytest

from alm_bot.config import load_settings
from alm_bot.errors import ConfigError
from alm_bot.services import Services
from alm_bot.slack import build_slack_app
from tests.world import World, text_of

pytestmark = pytest.mark.anyio


async def test_a_form_that_opens_too_late_says_what_to_do_instead(world: World) -> None:
    world.fake.fail_next("views.open", status=200, error="expired_trigger_id")
    shown = text_of(await world.ask("sync"))
    assert "took too long to open the form" in shown
    assert "/alm sync &lt;source&gt; &lt;target&gt;" in shown


async def test_an_unexpected_failure_is_reported_with_a_reference_and_no_traceback(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.fake.fail_next("views.open", status=200, error="invalid_arguments")
    answer = await world.ask("sync")
    assert answer["response_type"] == "ephemeral"
    shown = text_of(answer)
    assert "something went wrong (ref " in shown
    assert "invalid_arguments" not in shown
    assert "Traceback" not in shown
    ref = shown.split("(ref ")[1].split(")")[0]
    assert f"unexpected error in a Slack listener (ref {ref})" in caplog.text


async def test_the_app_needs_a_bot_token(world: World) -> None:
    settings = load_settings(env={"ALM_BOT_DATABASE_URL": "sqlite:///unused.db"})
    services = Services(settings, world.services.client, world.services.store, world.services.ops)
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        build_slack_app(services)
