"""Anaplan's regions and their hosts: what ``ANAPLAN_REGION`` sets (explicit URLs still win).

From Anaplan's "URL, IP, and allowlist requirements" (support.anaplan.com), as tabulated in the
community OpenAPI description ``setikites/anaplan-openapi`` (``oauth/README.md``), and reference §0.
The legacy regions share ``api.anaplan.com``/``auth.anaplan.com`` and the OAuth host
``us1a.app.anaplan.com``; the newer ones have hosts of their own. **Uncertain**: the AU1 auth host
(``au1a.auth2`` is inferred from its ``api2``/``app2`` hosts) and the CA1 hosts (``ca1a``); there is
no ``jp1`` in Anaplan's table — Japan is ``ap1``, a legacy region.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["REGIONS", "Region", "RegionHosts"]


@dataclass(frozen=True, slots=True)
class RegionHosts:
    api_url: str
    auth_url: str
    oauth_url: str


_LEGACY: Final = RegionHosts(
    "https://api.anaplan.com/2/0", "https://auth.anaplan.com", "https://us1a.app.anaplan.com"
)


def _own(prefix: str, api: str = "api", auth: str = "auth", app: str = "app") -> RegionHosts:
    return RegionHosts(
        f"https://{prefix}.{api}.anaplan.com/2/0",
        f"https://{prefix}.{auth}.anaplan.com",
        f"https://{prefix}.{app}.anaplan.com",
    )


Region = Literal[
    "us1", "us2", "us5", "us7", "us9", "eu1", "eu2", "eu3", "eu4", "eu5", "gb1", "ap1",
    "au1", "ca1", "sg1", "ae1", "in1", "id1", "me1",
]  # fmt: skip

REGIONS: Final[dict[str, RegionHosts]] = {
    **dict.fromkeys(("us1", "us2", "us5", "us7", "eu1", "eu2", "eu4", "ap1"), _LEGACY),
    **{own: _own(own) for own in ("us9", "eu3", "eu5", "gb1", "sg1", "ae1", "in1", "id1", "me1")},
    "au1": _own("au1a", "api2", "auth2", "app2"),
    "ca1": _own("ca1a"),
}
