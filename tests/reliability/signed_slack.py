"""What both reliability rigs do as Slack: signed ``/alm`` commands and Approve clicks to a running bot.

`SignedSlack` is mixed into `tests.reliability.rig.Serve` (an ``alm-bot serve`` process) and
`tests.reliability.inproc.Bot` (serve's app in-process): each has a fake Slack (for response URLs),
an HTTP client, the bot's URL and its signing secret; the requests are built and signed as Slack does.
"""

from __future__ import annotations

import httpx2

from alm_bot.slack.buttons import APPROVE, button_value
from alm_bot.slack.card_ref import card_location
from alm_bot.store import ApprovalRequest
from tools.fake_slack import FakeSlack, block_actions_body, sign, slash_command_body

REQUESTER = "U0REQUESTER"
APPROVER = "U0APPROVER1"


class SignedSlack:
    """Slack's side of the conversation with the bot at ``url`` (fields of the dataclass it is mixed into)."""

    fake: FakeSlack
    http: httpx2.AsyncClient
    url: str
    signing_secret: str

    async def slash(self, text: str, *, user: str = REQUESTER, reply_to: str = "cmd") -> httpx2.Response:
        """``/alm <text>``, signed as Slack signs it."""
        body = slash_command_body(text, response_url=self.fake.response_url(reply_to), user_id=user)
        return await self._post(body)

    async def approve(self, request: ApprovalRequest, *, user: str = APPROVER) -> httpx2.Response:
        """``user`` clicks Approve on the request's card."""
        posted = card_location(request)
        assert posted is not None, f"no card for {request.id} yet"
        body = block_actions_body(
            APPROVE,
            button_value(request.id),
            user_id=user,
            channel_id=posted.channel,
            message_ts=posted.ts,
            response_url=self.fake.response_url(f"click-{request.id}-{user}"),
        )
        return await self._post(body)

    async def _post(self, body: str) -> httpx2.Response:
        headers = sign(body, self.signing_secret)
        return await self.http.post(f"{self.url}/slack/events", content=body, headers=headers)
