"""The approval policy of a request: how many people, in which stages, reminders and escalation. Pure.

`effective_policy` turns the configuration into one `EffectivePolicy` for a request's targets: each
target's own keys (``[models.<alias>]``) over the defaults of ``[approval]``; for several targets
(or several aliases of one model) the strictest applies — the most approvals, then the most
stages — and `EffectivePolicy.strictest` names the target it came from. `progress` counts the
approvals given so far against it: distinct people, each counted in one stage only (a matching of
people to the stages' places, so the order of the clicks never wastes an approval).

Every front end words these records itself (Slack card, MCP output, CLI); nothing here speaks one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from alm_bot.config import ApprovalConfig, ModelConfig, Settings
from alm_bot.config.sections import StageConfig
from alm_bot.errors import Approvers

__all__ = [
    "Approval",
    "ApprovalProgress",
    "EffectivePolicy",
    "PolicyExplained",
    "Stage",
    "StageProgress",
    "effective_policy",
    "explain_configured",
    "explained_data",
    "groups_named",
    "policy_data",
    "policy_for",
    "progress",
    "split_approvers",
    "target_policy",
]


@dataclass(frozen=True, slots=True)
class Stage:
    """``count`` distinct people from ``approvers`` (named users, members of groups)."""

    approvers: Approvers
    count: int = 1
    name: str = ""


@dataclass(frozen=True, slots=True)
class EffectivePolicy:
    """The rules one request is decided under.

    ``source``: where they come from — ``"[approval]"`` (the defaults) or ``"[models.<alias>]"``.
    ``strictest``: for a request into several targets, the target whose policy was chosen (None
    when there was only one to choose from); ``targets`` are the targets that were compared.
    """

    stages: tuple[Stage, ...]
    expires_after: timedelta
    allow_self_approval: bool = False
    remind_after: timedelta | None = None
    escalate_after: timedelta | None = None
    escalate_to: Approvers = field(default_factory=Approvers)
    source: str = "[approval]"
    strictest: str | None = None
    targets: tuple[str, ...] = ()

    @property
    def required(self) -> int:
        """Approvals needed in all: the stages' counts added up."""
        return sum(stage.count for stage in self.stages)

    @property
    def staged(self) -> bool:
        return len(self.stages) > 1

    @property
    def plain(self) -> bool:
        """One approval by one of the approvers, no reminder, no escalation: alm-bot's original rule."""
        return self.required == 1 and not self.staged and self.remind_after is None and not self.escalates

    @property
    def escalates(self) -> bool:
        return self.escalate_after is not None and self.escalate_to.anyone

    def approvers(self, *, escalated: bool = False) -> Approvers:
        """Everyone who may decide: the approvers of every stage, and the escalation's once it happened."""
        parts = [s.approvers for s in self.stages] + ([self.escalate_to] if escalated else [])
        return _union(parts)

    def strictness(self) -> tuple[int, int]:
        return (self.required, len(self.stages))


@dataclass(frozen=True, slots=True)
class PolicyExplained:
    """The rules a change into one model is decided under, for ``policy explain`` everywhere.

    ``protected``: whether changes need approval now (None: not known — Anaplan was not asked).
    """

    label: str
    model_id: str | None
    protected: bool | None
    policy: EffectivePolicy


@dataclass(frozen=True, slots=True)
class Approval:
    """One person's approval, with the user groups they belonged to when they gave it."""

    person_id: str
    person_name: str
    at: datetime
    groups: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class StageProgress:
    stage: Stage
    approved_by: tuple[Approval, ...] = ()

    @property
    def met(self) -> bool:
        return len(self.approved_by) >= self.stage.count

    @property
    def missing(self) -> int:
        return max(0, self.stage.count - len(self.approved_by))


@dataclass(frozen=True, slots=True)
class ApprovalProgress:
    """Where a request stands against its policy: who approved in which stage, what is still missing."""

    policy: EffectivePolicy
    stages: tuple[StageProgress, ...]
    approvals: tuple[Approval, ...] = ()
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    uncounted: tuple[Approval, ...] = field(default=())

    @property
    def escalated(self) -> bool:
        return self.escalated_at is not None

    @property
    def counted(self) -> int:
        return sum(len(s.approved_by) for s in self.stages)

    @property
    def required(self) -> int:
        return self.policy.required

    @property
    def met(self) -> bool:
        return all(s.met for s in self.stages)

    def counts(self, person_id: str) -> bool:
        return any(a.person_id == person_id for s in self.stages for a in s.approved_by)

    def still_possible(self) -> Approvers:
        """Who could still add an approval that counts: the unmet stages' approvers (and escalation's)."""
        parts = [s.stage.approvers for s in self.stages if not s.met]
        if self.escalated and not self.met:
            parts.append(self.policy.escalate_to)
        everyone = _union(parts)
        approved = {a.person_id for a in self.approvals}  # an approval counts once: theirs is in
        return Approvers(tuple(u for u in everyone.users if u not in approved), everyone.groups)


def groups_named(settings: Settings) -> tuple[str, ...]:
    """Every user group any policy names (stages, escalation): the groups whose members to look up."""
    approval = settings.approval
    named: list[str] = [*approval.approver_groups, *approval.escalate_to]
    stages = [*approval.stages]
    for model in settings.models.values():
        stages += model.stages or ()
        named += model.escalate_to or ()
    named += [a for stage in stages for a in stage.approvers]
    return tuple(dict.fromkeys(g for g in named if g.startswith("S")))


def split_approvers(ids: Iterable[str]) -> Approvers:
    """``["U1", "S2"]`` → users (``U…``/``W…``) and groups (``S…``), as configured."""
    ids = tuple(ids)
    return Approvers(
        tuple(i for i in ids if not i.startswith("S")), tuple(i for i in ids if i.startswith("S"))
    )


def target_policy(approval: ApprovalConfig, config: ModelConfig | None, source: str = "") -> EffectivePolicy:
    """One target's policy: its own keys where it has them, the ``[approval]`` defaults elsewhere."""
    defaults = Approvers(tuple(approval.approvers), tuple(approval.approver_groups))
    own = config is not None and (config.stages is not None or config.approvals_required is not None)
    if config is not None and config.stages is not None:
        stages = _stages(config.stages)
    elif config is not None and config.approvals_required is not None:
        stages = (Stage(defaults, config.approvals_required),)
    elif approval.stages:
        stages = _stages(approval.stages)
    else:
        stages = (Stage(defaults, approval.approvals_required),)
    remind = config.remind_after if config and config.remind_after is not None else approval.remind_after
    if config is not None and config.escalate_to is not None:
        escalate_after, escalate_to, own = config.escalate_after, config.escalate_to, True
    else:
        escalate_after, escalate_to = approval.escalate_after, approval.escalate_to
    own = own or (config is not None and config.remind_after is not None)
    return EffectivePolicy(
        stages=stages,
        expires_after=approval.expires_after,
        allow_self_approval=approval.allow_self_approval,
        remind_after=remind,
        escalate_after=escalate_after,
        escalate_to=split_approvers(escalate_to),
        source=source if own and source else "[approval]",
    )


def effective_policy(
    approval: ApprovalConfig, targets: Mapping[str, Sequence[tuple[str, ModelConfig]]]
) -> EffectivePolicy:
    """The strictest policy among ``targets`` (target label → its configured aliases and their keys).

    A target without configuration (deployed, never named in TOML) has the ``[approval]`` defaults.
    Ties keep the first target, in the order given.
    """
    candidates: list[tuple[str, EffectivePolicy]] = []
    for label, configs in targets.items():
        if not configs:
            candidates.append((label, target_policy(approval, None)))
        for alias, config in configs:
            candidates.append((label, target_policy(approval, config, f"[models.{alias}]")))
    if not candidates:
        return target_policy(approval, None)
    label, chosen = candidates[0]
    for other_label, other in candidates[1:]:
        if other.strictness() > chosen.strictness():
            label, chosen = other_label, other
    labels = tuple(targets)
    return replace(chosen, strictest=label if len(labels) > 1 else None, targets=labels)


def policy_for(settings: Settings, model_ids: Mapping[str, str]) -> EffectivePolicy:
    """The effective policy for targets (label → model id), from every alias configured for each."""
    targets = {label: list(settings.model_configs(mid).items()) for label, mid in model_ids.items()}
    return effective_policy(settings.approval, targets)


def explain_configured(settings: Settings, model: str) -> PolicyExplained:
    """The policy of a model named by a configured alias or a model id, from the configuration alone.

    ``protected`` is True when configured so, else unknown (Anaplan decides: deployed models are).
    """
    config = settings.models.get(model)
    model_id = config.id if config is not None else model.strip().upper()
    configured = settings.model_configs(model_id)
    protected = True if any(c.protected for c in configured.values()) else None
    return PolicyExplained(model, model_id, protected, policy_for(settings, {model: model_id}))


def progress(
    policy: EffectivePolicy,
    approvals: Sequence[Approval],
    *,
    reminded_at: datetime | None = None,
    escalated_at: datetime | None = None,
) -> ApprovalProgress:
    """Count ``approvals`` (oldest first) into the stages: each person once, in one stage only."""
    escalated = escalated_at is not None
    places = [index for index, stage in enumerate(policy.stages) for _ in range(stage.count)]
    holder: dict[int, int] = {}  # place → index of the approval that fills it
    for index in range(len(approvals)):
        _place(index, approvals, places, policy, escalated, holder, set())
    counted = {i: places[p] for p, i in holder.items()}
    stages = tuple(
        StageProgress(stage, tuple(a for i, a in enumerate(approvals) if counted.get(i) == number))
        for number, stage in enumerate(policy.stages)
    )
    uncounted = tuple(a for i, a in enumerate(approvals) if i not in counted)
    return ApprovalProgress(policy, stages, tuple(approvals), reminded_at, escalated_at, uncounted)


def may_approve_in(policy: EffectivePolicy, stage: Stage, approval: Approval, escalated: bool) -> bool:
    """Whether this person may fill a place of ``stage`` (escalation opens every stage to its people)."""
    if _named(stage.approvers, approval):
        return True
    return escalated and _named(policy.escalate_to, approval)


def _place(
    index: int,
    approvals: Sequence[Approval],
    places: list[int],
    policy: EffectivePolicy,
    escalated: bool,
    holder: dict[int, int],
    seen: set[int],
) -> bool:
    """Kuhn's augmenting path: give approval ``index`` a place, moving earlier ones if that frees one."""
    for place, stage_number in enumerate(places):
        stage = policy.stages[stage_number]
        if place in seen or not may_approve_in(policy, stage, approvals[index], escalated):
            continue
        seen.add(place)
        current = holder.get(place)
        if current is None or _place(current, approvals, places, policy, escalated, holder, seen):
            holder[place] = index
            return True
    return False


def _named(approvers: Approvers, approval: Approval) -> bool:
    return approval.person_id in approvers.users or not approval.groups.isdisjoint(approvers.groups)


def _stages(configured: Sequence[StageConfig]) -> tuple[Stage, ...]:
    return tuple(Stage(split_approvers(s.approvers), s.count, s.name) for s in configured)


def _union(parts: Sequence[Approvers]) -> Approvers:
    users = tuple(dict.fromkeys(u for p in parts for u in p.users))
    groups = tuple(dict.fromkeys(g for p in parts for g in p.groups))
    return Approvers(users, groups)


def explained_data(explained: PolicyExplained) -> dict[str, Any]:
    """`PolicyExplained` as plain data."""
    return {
        "model": explained.label,
        "model_id": explained.model_id,
        "protected": explained.protected,
        "policy": policy_data(explained.policy),
    }


def policy_data(policy: EffectivePolicy) -> dict[str, Any]:
    """The policy as plain data (ids, durations in seconds): the CLI's ``--json``, MCP's resource."""
    return {
        "source": policy.source,
        "approvals_required": policy.required,
        "stages": [
            {
                "name": s.name or None,
                "count": s.count,
                "users": list(s.approvers.users),
                "groups": list(s.approvers.groups),
            }
            for s in policy.stages
        ],
        "allow_self_approval": policy.allow_self_approval,
        "remind_after_seconds": _seconds(policy.remind_after),
        "escalate_after_seconds": _seconds(policy.escalate_after) if policy.escalates else None,
        "escalate_to": [*policy.escalate_to.users, *policy.escalate_to.groups],
        "expires_after_seconds": _seconds(policy.expires_after),
    }


def _seconds(delta: timedelta | None) -> int | None:
    return None if delta is None else int(delta.total_seconds())
