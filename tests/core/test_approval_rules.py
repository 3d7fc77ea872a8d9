"""The approval policy as pure rules: which policy applies, how approvals are counted into stages,
what the configuration refuses, and the README's worked example."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import permutations
from pathlib import Path
from typing import Any

import pytest

from alm_bot.approval_policy import Approval, effective_policy, explain_configured, progress, target_policy
from alm_bot.config import ApprovalConfig, ModelConfig, load_settings
from alm_bot.errors import ConfigError
from alm_bot.policy_cli import explained_text

PROD_ID, EMEA_ID = "0085E9ACE5F908A0582AA6F438CE70FC", "1497B2A3711C8A3E75250696C910CFBA"
DEFAULTS = ApprovalConfig(channel="C0APPROVALS", approvers=("U0GRACE", "U0LINUS"), remind_after="2h")
T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
README = Path(__file__).resolve().parents[2] / "README.md"


def model(model_id: str = PROD_ID, **keys: Any) -> ModelConfig:
    return ModelConfig(id=model_id, protected=True, **keys)


def approval(person: str, *groups: str, minute: int = 0) -> Approval:
    return Approval(person, person.title(), T0 + timedelta(minutes=minute), frozenset(groups))


def test_without_keys_of_its_own_a_model_has_the_defaults_one_approval() -> None:
    policy = target_policy(DEFAULTS, model())
    assert (policy.required, policy.source, policy.plain) == (1, "[approval]", False)  # reminds
    assert policy.stages[0].approvers.users == ("U0GRACE", "U0LINUS")
    assert target_policy(ApprovalConfig(approvers=("U0A",), channel="C0A"), None).plain


def test_a_models_stages_replace_the_default_requirement_and_inherit_its_reminder() -> None:
    stages = [{"approvers": ["S0PEERS"]}, {"approvers": ["S0FINANCE", "U0HEAD"], "count": 2}]
    policy = target_policy(DEFAULTS, model(stages=stages), "[models.emea]")
    assert (policy.required, policy.staged, policy.source) == (3, True, "[models.emea]")
    assert policy.stages[1].approvers.users == ("U0HEAD",)
    assert policy.stages[1].approvers.groups == ("S0FINANCE",)
    assert policy.remind_after == timedelta(hours=2)


def test_a_release_gets_the_strictest_of_its_targets_and_says_which_target_it_was() -> None:
    targets = {
        "test": [],
        "prod-emea": [("prod-emea", model(EMEA_ID, approvals_required=2))],
        "prod-apac": [("prod-apac", model(stages=[{"approvers": ["S0A"]}, {"approvers": ["S0B"]}]))],
    }
    policy = effective_policy(DEFAULTS, targets)
    assert (policy.strictest, policy.source, policy.required) == ("prod-apac", "[models.prod-apac]", 2)
    assert policy.targets == ("test", "prod-emea", "prod-apac")
    single = effective_policy(DEFAULTS, {"prod-emea": targets["prod-emea"]})
    assert single.strictest is None
    tie = effective_policy(DEFAULTS, {"a": [("a", model(approvals_required=2))], "b": targets["prod-emea"]})
    assert tie.strictest == "a"  # a tie keeps the first target


def test_two_aliases_of_one_model_give_the_stricter_of_their_policies() -> None:
    both = {"prod": [("prod", model()), ("fpa-prod", model(approvals_required=3))]}
    assert effective_policy(DEFAULTS, both).required == 3


@pytest.mark.parametrize("order", list(permutations(range(3))))
def test_approvals_fill_the_stages_whatever_the_order_of_the_clicks(order: tuple[int, ...]) -> None:
    stages = [{"approvers": ["S0PEERS"]}, {"approvers": ["S0FINANCE"]}, {"approvers": ["S0PEERS"]}]
    policy = target_policy(DEFAULTS, model(stages=stages))
    people = [
        approval("U0BOTH", "S0PEERS", "S0FINANCE"),
        approval("U0PEER", "S0PEERS"),
        approval("U0P2", "S0PEERS"),
    ]
    counted = progress(policy, [people[i] for i in order])
    assert counted.met
    assert counted.counted == 3
    assert [a.person_id for a in counted.stages[1].approved_by] == ["U0BOTH"]


def test_a_person_in_every_group_counts_in_one_stage_only() -> None:
    policy = target_policy(DEFAULTS, model(stages=[{"approvers": ["S0A"]}, {"approvers": ["S0B"]}]))
    counted = progress(policy, [approval("U0BOTH", "S0A", "S0B")])
    assert (counted.counted, counted.met) == (1, False)
    assert counted.still_possible().groups == ("S0B",)


def test_escalation_opens_every_stage_still_open_to_its_people_once_it_happened() -> None:
    policy = target_policy(DEFAULTS, model(approvals_required=2, escalate_after="6h", escalate_to=["U0HEAD"]))
    head = approval("U0HEAD")
    assert progress(policy, [head]).counted == 0
    assert progress(policy, [head], escalated_at=T0).counted == 1
    assert policy.approvers(escalated=True).users == ("U0GRACE", "U0LINUS", "U0HEAD")


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ({"approvals_required": 2, "stages": [{"approvers": ["S0A"]}]}, "not both"),
        ({"escalate_after": "6h"}, "go together"),
        ({"escalate_to": ["U0HEAD"]}, "go together"),
        ({"stages": [{"approvers": ["C0NOTAPERSON"]}]}, "user or user-group id"),
        ({"approvals_required": 0}, "greater than or equal to 1"),
    ],
)
def test_the_configuration_refuses_policies_that_mean_nothing(keys: dict[str, Any], problem: str) -> None:
    data = {"approval": {"channel": "C0A", "approvers": ["U0A"]}, "models": {"prod": {"id": PROD_ID, **keys}}}
    with pytest.raises(ConfigError) as refused:
        load_settings(env={}, defaults=data)
    assert problem in str(refused.value)


def test_the_readmes_worked_example_loads_and_explains_as_the_readme_shows(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    part = text[text.index("## Approval policy") : text.index("### Change windows")]
    example, shown = (re.search(rf"```{kind}\n(.*?)```", part, re.DOTALL) for kind in ("toml", "text"))
    assert example is not None
    assert shown is not None
    path = tmp_path / "alm-bot.toml"
    path.write_text(re.sub(r"(?m)^  ", "", example[1]), encoding="utf-8")
    settings = load_settings(env={}, config_file=path)
    printed = explained_text(explain_configured(settings, "fpa-emea"))
    assert printed == re.sub(r"(?m)^  ", "", shown[1]).rstrip("\n")
    assert explain_configured(settings, "fpa-prod").policy.required == 2


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"models": {"prod": {"id": PROD_ID, "approvals_required": 3}}}, "names only 1 approvers"),
        (
            {"models": {"prod": {"id": PROD_ID, "stages": [{"approvers": ["U0A"], "count": 2}]}}},
            "only 1 people",
        ),
        ({"approval": {"approvers": ["U0A"], "approvals_required": 2}}, "names only 1 people"),
    ],
)
def test_a_policy_nobody_could_ever_meet_is_refused(data: dict[str, Any], problem: str) -> None:
    layers = {"approval": {"channel": "C0A", "approvers": ["U0A"], **data.get("approval", {})}}
    with pytest.raises(ConfigError) as refused:
        load_settings(env={}, defaults=layers | {k: v for k, v in data.items() if k != "approval"})
    assert problem in str(refused.value)


def test_a_models_policy_without_an_approvals_channel_is_refused() -> None:
    data = {"models": {"prod": {"id": PROD_ID, "stages": [{"approvers": ["S0A"]}]}}}
    with pytest.raises(ConfigError) as refused:
        load_settings(env={}, defaults=data)
    assert "needs a channel" in str(refused.value)
