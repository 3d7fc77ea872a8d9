"""Change windows: when may a model change? Pure — no I/O, no clock of its own.

Configured as ``[[windows]]`` in the TOML file (see ``alm_bot.config``). ``ChangeWindow`` is one
validated window (``window``); ``decide`` says whether a change may start at an instant, which window
decides and when it may run otherwise (``decide_all``: for several target models at once);
``overview`` lists current and next openings for display
(``decision``). Deny wins over allow; a model with allow windows changes only inside one.
"""

from __future__ import annotations

from alm_bot.windows.decision import (
    HORIZON,
    WindowDecision,
    WindowState,
    decide,
    decide_all,
    local_label,
    overview,
)
from alm_bot.windows.window import (
    ANY_MODEL,
    ChangeWindow,
    Kind,
    Occurrence,
    Once,
    Recurring,
    local_instant,
    parse_cron,
    parse_zone,
)

__all__ = [
    "ANY_MODEL",
    "HORIZON",
    "ChangeWindow",
    "Kind",
    "Occurrence",
    "Once",
    "Recurring",
    "WindowDecision",
    "WindowState",
    "decide",
    "decide_all",
    "local_instant",
    "local_label",
    "overview",
    "parse_cron",
    "parse_zone",
]
