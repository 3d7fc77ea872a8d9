"""The ALM use cases that every front end calls: reads, revisions, comparisons, requests, decisions.

Front ends (Slack, MCP, CLI) parse what a person typed, call the concept of `Operations` that owns
it (``ops.requests.decide``, ``ops.immediate.create_revision``, reads on ``ops`` itself) with an
`Actor`, and render what comes back. The rules live here and in `policy`, once:

- models are named by alias, id or exact name (`ModelDirectory`);
- a sync into, or an online/offline change of, a protected model becomes a *pending request* that a
  second person must approve; anything else runs at once;
- every state change is a compare-and-set in the store, written together with its audit event and
  the outbox notices it causes, so double clicks and replicas cannot both win and nothing is lost;
- Anaplan tasks are started here and followed by the watcher; nothing here waits for a task.

Modules by concept: ``reads`` (look-ups), ``planning`` (what a sync would do), ``requests`` (asking,
deciding, withdrawing), ``immediate`` (revisions, comparisons), ``execution`` (starting approved
work; the approve → sync POST → notice path is drawn in its docstring), ``ownership`` (leases and
deadlines), ``recovery`` (settling requests whose owner is gone), ``recording`` (finished tasks),
``lifecycle`` (every transition: compare-and-set, audit, notices, change event), ``watching`` (the
watcher's interface), ``core`` (`Operations`, composing them).
"""

from alm_bot.operations.core import Operations
from alm_bot.operations.outcomes import ComparisonStarted, RequestOutcome, TaskKind, utc_now
from alm_bot.operations.ownership import default_owner
from alm_bot.operations.watching import WatchedWork

__all__ = [
    "ComparisonStarted",
    "Operations",
    "RequestOutcome",
    "TaskKind",
    "WatchedWork",
    "default_owner",
    "utc_now",
]
