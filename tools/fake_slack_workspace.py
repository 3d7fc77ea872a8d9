"""The state and Web API semantics behind the fake Slack server — plain code, no I/O.

:class:`Workspace` holds what a test seeds (users, user groups) and what the bot creates (messages,
views, home tabs, DM channels, uploaded files), and answers one Web API call at a time:
``workspace.call("chat.postMessage", params) -> reply dict``. The server in ``tools/fake_slack.py``
only moves bytes and records calls; everything Slack-shaped lives here so it reads top to bottom.

Replies carry the fields slack_sdk and Bolt read, and the same error codes Slack uses for the
mistakes a bot is likely to make (missing channel, unknown user, expired trigger, ...). State is
lenient where a strict Slack would get in a test's way: ``chat.update`` of a message the fake never
saw is accepted (and remembered), so an action handler can be tested without posting first.
Messages keep their ``metadata``; ``conversations.history`` / ``conversations.replies`` serve them
back as Slack documents (window, pagination, metadata only with ``include_all_metadata``, the
history scope of the conversation's kind), and message ts follow the clock as Slack's do.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tools.slack_requests import API_APP_ID, TEAM_ID

__all__ = ["BOT_ID", "BOT_USER_ID", "DEFAULT_SCOPES", "Workspace", "dm_channel_id"]

BOT_USER_ID = "U0ALMBOT"
BOT_ID = "B0ALMBOT"
# The bot scopes of manifest.yml; auth.test reports them in the x-oauth-scopes header.
DEFAULT_SCOPES = (
    "commands",
    "chat:write",
    "users:read",
    "usergroups:read",
    "im:write",
    "files:write",
    "channels:history",
    "groups:history",
    "im:history",
)
# conversations.history / .replies need the history scope of the kind of conversation (by id prefix).
_HISTORY_SCOPES = {"C": "channels:history", "G": "groups:history", "D": "im:history"}
_PAGE_LIMIT = 999

Params = dict[str, Any]
Reply = dict[str, Any]
_Handler = Callable[["Workspace", Params], Reply]
_METHODS: dict[str, _Handler] = {}


def _method(name: str) -> Callable[[_Handler], _Handler]:
    """Register a Web API method implementation under its Slack name."""

    def register(handler: _Handler) -> _Handler:
        _METHODS[name] = handler
        return handler

    return register


def _error(code: str) -> Reply:
    return {"ok": False, "error": code}


def _ts_key(message: Reply) -> float:
    return float(message["ts"])


def _flag(value: Any) -> bool:
    """A boolean Web API argument as slack_sdk sends it (``True``, ``"true"``, ``"1"``)."""
    return value is True or str(value).lower() in ("true", "1")


def dm_channel_id(user_id: str) -> str:
    """The DM channel the fake opens with ``user_id`` — readable: U0REQUESTER → D0REQUESTER."""
    return "D" + user_id[1:]


def make_user(user_id: str, name: str, *, real_name: str | None = None, tz: str = "Europe/London") -> Reply:
    """A ``users.info`` user object with the fields the bot reads."""
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": name,
        "real_name": real_name or name.title(),
        "tz": tz,
        "deleted": False,
        "is_bot": False,
        "profile": {"display_name": name, "real_name": real_name or name.title()},
    }


@dataclass
class Workspace:
    """One fake Slack workspace. Seed ``users`` / ``usergroups``; inspect the rest after a test."""

    base_url: str = ""
    users: dict[str, Reply] = field(default_factory=dict)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    messages: dict[tuple[str, str], Reply] = field(default_factory=dict)
    views: dict[str, Reply] = field(default_factory=dict)
    home_tabs: dict[str, Reply] = field(default_factory=dict)
    files: dict[str, Reply] = field(default_factory=dict)
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    _last_ts: int = 0
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def add_user(
        self, user_id: str, name: str, *, real_name: str | None = None, tz: str = "Europe/London"
    ) -> Reply:
        """Seed a user for ``users.info`` and return it."""
        self.users[user_id] = make_user(user_id, name, real_name=real_name, tz=tz)
        return self.users[user_id]

    def call(self, method: str, params: Params) -> Reply:
        """Answer one Web API call (authentication is the server's job)."""
        handler = _METHODS.get(method)
        return handler(self, params) if handler else _error("unknown_method")

    def next_ts(self) -> str:
        # Like Slack's: the time of posting (microseconds), strictly increasing, so a history
        # window (oldest/latest) finds what was posted in it and order is visible.
        self._last_ts = max(self._last_ts + 1, time.time_ns() // 1000)
        return f"{self._last_ts // 1_000_000}.{self._last_ts % 1_000_000:06d}"

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):010d}"

    def message(self, channel: str, ts: str) -> Reply | None:
        """The current state of a posted message (after any ``chat.update``), or None."""
        return self.messages.get((channel, ts))

    # ---- auth -----------------------------------------------------------------------------

    @_method("auth.test")
    def _auth_test(self, params: Params) -> Reply:
        return {
            "ok": True,
            "url": "https://fake-team.slack.com/",
            "team": "Fake Team",
            "user": "alm-bot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": API_APP_ID,
            "is_enterprise_install": False,
        }

    # ---- chat -----------------------------------------------------------------------------

    @_method("chat.postMessage")
    def _post_message(self, params: Params) -> Reply:
        channel = params.get("channel")
        if not channel:
            return _error("channel_not_found")
        if not any(params.get(k) for k in ("text", "blocks", "attachments")):
            return _error("no_text")
        # Posting to a user id lands in the DM with that user, as on Slack.
        channel = dm_channel_id(channel) if channel.startswith("U") else channel
        ts = self.next_ts()
        message = {
            "type": "message",
            "ts": ts,
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": API_APP_ID,
            "text": params.get("text", ""),
            "blocks": params.get("blocks", []),
        }
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        if isinstance(params.get("metadata"), dict):
            message["metadata"] = params["metadata"]
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    @_method("chat.update")
    def _update(self, params: Params) -> Reply:
        channel, ts = params.get("channel"), params.get("ts")
        if not channel:
            return _error("channel_not_found")
        if not ts:
            return _error("message_not_found")
        message = self.messages.setdefault((channel, ts), {"type": "message", "ts": ts, "bot_id": BOT_ID})
        message.update({k: params[k] for k in ("text", "blocks", "attachments") if k in params})
        return {"ok": True, "channel": channel, "ts": ts, "text": message.get("text", ""), "message": message}

    @_method("chat.postEphemeral")
    def _post_ephemeral(self, params: Params) -> Reply:
        if not params.get("channel"):
            return _error("channel_not_found")
        if not params.get("user"):
            return _error("user_not_found")
        if not any(params.get(k) for k in ("text", "blocks", "attachments")):
            return _error("no_text")
        return {"ok": True, "message_ts": self.next_ts()}

    @_method("chat.getPermalink")
    def _permalink(self, params: Params) -> Reply:
        channel, ts = params.get("channel"), params.get("message_ts")
        if not channel or not ts:
            return _error("message_not_found")
        url = f"https://fake-team.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": url}

    # ---- conversation history: what a channel or a thread holds -------------------------------

    @_method("conversations.history")
    def _history(self, params: Params) -> Reply:
        """Top-level messages of a channel (thread replies stay in their thread), newest first."""
        channel = str(params.get("channel") or "")
        refused = self._history_refusal(channel)
        if refused:
            return refused
        found = [
            m
            for (c, _), m in self.messages.items()
            if c == channel and m.get("thread_ts", m["ts"]) == m["ts"]
        ]
        return self._page(sorted(found, key=_ts_key, reverse=True), params)

    @_method("conversations.replies")
    def _replies(self, params: Params) -> Reply:
        """A thread: its parent first, then the replies in the window, oldest first."""
        channel, parent_ts = str(params.get("channel") or ""), str(params.get("ts") or "")
        refused = self._history_refusal(channel)
        if refused:
            return refused
        parent = self.messages.get((channel, parent_ts))
        if parent is None:
            return _error("thread_not_found")
        replies = [
            m
            for (c, ts), m in self.messages.items()
            if c == channel and ts != parent_ts and m.get("thread_ts") == parent_ts
        ]
        page = self._page(sorted(replies, key=_ts_key), params)
        page["messages"] = [self._shown(parent, params), *page["messages"]]
        return page

    def _history_refusal(self, channel: str) -> Reply | None:
        if not channel:
            return _error("channel_not_found")
        needed = _HISTORY_SCOPES.get(channel[:1])
        if needed is None:
            return _error("channel_not_found")
        if needed not in self.scopes:
            return {
                "ok": False,
                "error": "missing_scope",
                "needed": needed,
                "provided": ",".join(self.scopes),
            }
        return None

    def _page(self, messages: list[Reply], params: Params) -> Reply:
        """Slack's window (``oldest``/``latest``, ``inclusive``) and cursor pagination over ``messages``."""
        inclusive = _flag(params.get("inclusive"))
        oldest, latest = float(params.get("oldest") or 0), float(params.get("latest") or time.time() + 1)
        in_window = [
            m
            for m in messages
            if (oldest <= _ts_key(m) <= latest if inclusive else oldest < _ts_key(m) < latest)
        ]
        limit = min(int(params.get("limit") or 100), _PAGE_LIMIT)
        start = int(str(params.get("cursor") or "page:0").removeprefix("page:") or 0)
        chunk = in_window[start : start + limit]
        more = start + limit < len(in_window)
        return {
            "ok": True,
            "messages": [self._shown(m, params) for m in chunk],
            "has_more": more,
            "pin_count": 0,
            "response_metadata": {"next_cursor": f"page:{start + limit}" if more else ""},
        }

    @staticmethod
    def _shown(message: Reply, params: Params) -> Reply:
        # Message metadata comes back only when asked for (include_all_metadata), as on Slack.
        if _flag(params.get("include_all_metadata")):
            return dict(message)
        return {k: v for k, v in message.items() if k != "metadata"}

    # ---- views: modals and the App Home tab ---------------------------------------------------

    @_method("views.open")
    def _views_open(self, params: Params) -> Reply:
        if not params.get("trigger_id"):
            return _error("invalid_trigger_id")
        if not isinstance(params.get("view"), dict):
            return _error("invalid_arguments")
        return {"ok": True, "view": self._store_view(self.next_id("V"), params["view"])}

    @_method("views.update")
    def _views_update(self, params: Params) -> Reply:
        view_id = params.get("view_id") or self._view_id_by_external(params.get("external_id"))
        if not view_id or view_id not in self.views:
            return _error("not_found")
        if not isinstance(params.get("view"), dict):
            return _error("invalid_arguments")
        return {"ok": True, "view": self._store_view(view_id, params["view"])}

    @_method("views.publish")
    def _views_publish(self, params: Params) -> Reply:
        user_id = params.get("user_id")
        if not user_id:
            return _error("invalid_arguments")
        if not isinstance(params.get("view"), dict):
            return _error("invalid_arguments")
        previous = self.home_tabs.get(user_id)
        view_id = previous["id"] if previous else self.next_id("V")
        self.home_tabs[user_id] = self._store_view(view_id, params["view"])
        return {"ok": True, "view": self.home_tabs[user_id]}

    def _store_view(self, view_id: str, view: Reply) -> Reply:
        stored = {"id": view_id, "team_id": TEAM_ID, "app_id": API_APP_ID, "hash": self.next_ts(), **view}
        self.views[view_id] = stored
        return stored

    def _view_id_by_external(self, external_id: str | None) -> str | None:
        return next(
            (vid for vid, v in self.views.items() if external_id and v.get("external_id") == external_id),
            None,
        )

    # ---- people -------------------------------------------------------------------------

    @_method("users.info")
    def _users_info(self, params: Params) -> Reply:
        user = self.users.get(params.get("user", ""))
        return {"ok": True, "user": user} if user else _error("user_not_found")

    @_method("usergroups.users.list")
    def _usergroup_members(self, params: Params) -> Reply:
        members = self.usergroups.get(params.get("usergroup", ""))
        return {"ok": True, "users": list(members)} if members is not None else _error("no_such_subteam")

    @_method("conversations.open")
    def _conversations_open(self, params: Params) -> Reply:
        users = [u for u in str(params.get("users", "")).split(",") if u]
        if len(users) != 1:
            # Group DMs are not something this bot opens; say so rather than fake one.
            return _error("users_list_not_supplied" if not users else "not_supported_by_fake")
        return {"ok": True, "channel": {"id": dm_channel_id(users[0])}}

    # ---- files (the v2 upload flow: get URL, POST bytes, complete) -------------------------------

    @_method("files.getUploadURLExternal")
    def _upload_url(self, params: Params) -> Reply:
        if not params.get("filename") or not str(params.get("length", "")).isdigit():
            return _error("invalid_arguments")
        file_id = self.next_id("F")
        self.files[file_id] = {"id": file_id, "name": params["filename"], "length": int(params["length"])}
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def receive_upload(self, file_id: str, content: bytes) -> bool:
        """Store the bytes POSTed to an upload URL; False if the URL was never handed out."""
        if file_id not in self.files:
            return False
        self.files[file_id]["content"] = content
        return True

    @_method("files.completeUploadExternal")
    def _complete_upload(self, params: Params) -> Reply:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            return _error("invalid_arguments")
        if any("content" not in self.files.get(e.get("id", ""), {}) for e in entries):
            return _error("file_not_found")
        channel = params.get("channel_id") or params.get("channels")
        done = []
        for entry in entries:
            stored = self.files[entry["id"]]
            stored.update(title=entry.get("title") or stored["name"], channel=channel)
            stored.update(initial_comment=params.get("initial_comment"), thread_ts=params.get("thread_ts"))
            done.append({k: stored[k] for k in ("id", "name", "title")} | {"size": len(stored["content"])})
        if channel:
            # As on Slack, sharing in a channel posts a message there: the comment, with the files.
            ts = self.next_ts()
            message = {
                "type": "message",
                "ts": ts,
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "text": params.get("initial_comment") or "",
                "files": [{k: f[k] for k in ("id", "name", "title")} for f in done],
                "upload": True,
            }
            if params.get("thread_ts"):
                message["thread_ts"] = params["thread_ts"]
            self.messages[(channel, ts)] = message
        return {"ok": True, "files": done}

    # ---- Socket Mode --------------------------------------------------------------------------

    @_method("apps.connections.open")
    def _connections_open(self, params: Params) -> Reply:
        ws_base = self.base_url.replace("http://", "ws://", 1)
        return {"ok": True, "url": f"{ws_base}/socket?ticket={self.next_id('ticket-')}"}
