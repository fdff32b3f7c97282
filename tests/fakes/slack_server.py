"""A faithful fake of the Slack Web API methods Tocsin uses, on 127.0.0.1 (base_url = `fake.api_url`).

Like Slack: every method answers HTTP 200 with `{"ok": false, "error": ...}` on failure; the token comes
as `Authorization: Bearer` (or a `token` parameter) -> `not_authed` / `invalid_auth`; arguments come as
form fields or a JSON body (as slack_sdk sends them) or a query string; rate limits answer HTTP 429 with
`Retry-After` and `{"ok": false, "error": "ratelimited"}`.

Methods: auth.test, conversations.create/list/invite/join/open/info, chat.postMessage/update, pins.add,
users.lookupByEmail, users.info.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from tests.fakes.http_base import FakeServer, Fault, QuietHandler
from tests.fakes.slack_blocks_rules import message_problem

BOT_USER = "U0TOCSINBOT"
TEAM_ID = "T0FAKETEAM"
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


class SlackError(Exception):
    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


@dataclass
class FakeChannel:
    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    is_im: bool = False
    im_user: str | None = None
    members: set[str] = field(default_factory=set)
    created: int = field(default_factory=lambda: int(time.time()))
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    pins: list[str] = field(default_factory=list)

    def as_json(self, viewer: str = BOT_USER) -> dict[str, Any]:
        if self.is_im:
            return {"id": self.id, "is_im": True, "user": self.im_user, "created": self.created}
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private,
            "is_group": False,
            "is_im": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_member": viewer in self.members,
            "created": self.created,
            "creator": BOT_USER,
            "num_members": len(self.members),
        }


class SlackHandler(QuietHandler):
    fake: ClassVar[FakeSlack]

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        body = self.read_body()
        path, _, query = self.path.partition("?")
        method = path.rsplit("/", 1)[-1]
        fault = self.fake.faults.take(method)
        if fault is not None and not self.fake.apply_fault(self, fault):
            return
        params = dict(parse_qsl(query))
        content_type = (self.headers.get("Content-Type") or "").lower()
        try:
            if body and content_type.startswith("application/json"):
                params.update(json.loads(body))
            elif body:
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except ValueError:
            self.respond(200, json.dumps({"ok": False, "error": "invalid_json"}).encode())
            return
        status, payload, headers = self.fake.handle(method, self.headers.get("Authorization"), params)
        self.respond(status, json.dumps(payload).encode(), headers)


def _flag(value: object) -> bool:
    return value in (True, 1, "1", "true", "True")


class FakeSlack(FakeServer):
    handler_class = SlackHandler

    def __init__(self, *, token: str = "xoxb-fake-token", users: dict[str, str] | None = None) -> None:
        """`users`: Slack user id -> email; the bot user is always there."""
        super().__init__()
        self.token = token
        self._lock = threading.RLock()
        self.calls: Counter[str] = Counter()
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, FakeChannel] = {}
        self._ims: dict[str, str] = {}
        self._sequence = 0
        self.add_user(BOT_USER, "tocsin-bot@fake.slack")
        for user_id, email in (users or {"U01ALICE": "alice@example.com", "U02BOB": "bob@example.com"}).items():
            self.add_user(user_id, email)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    # -- test set-up and inspection -----------------------------------------------------------------------

    def add_user(self, user_id: str, email: str) -> None:
        name = email.split("@")[0]
        self.users[user_id] = {"id": user_id, "name": name, "team_id": TEAM_ID, "profile": {"email": email}}

    def _next_id(self, prefix: str) -> str:
        self._sequence += 1
        return f"{prefix}{self._sequence:08d}"

    def add_channel(
        self, name: str, *, members: tuple[str, ...] = (), private: bool = False, archived: bool = False
    ) -> FakeChannel:
        with self._lock:
            channel = FakeChannel(self._next_id("C"), name, private, archived, members=set(members))
            self.channels[channel.id] = channel
            return channel

    def channel_named(self, name: str) -> FakeChannel | None:
        with self._lock:
            return next((c for c in self.channels.values() if c.name == name and not c.is_im), None)

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.channels[channel_id].messages.values())

    def dm_channel(self, user_id: str) -> FakeChannel | None:
        with self._lock:
            channel_id = self._ims.get(user_id)
            return self.channels[channel_id] if channel_id else None

    # -- protocol -----------------------------------------------------------------------------------------

    def apply_fault(self, handler: SlackHandler, fault: Fault) -> bool:
        if fault.delay:
            threading.Event().wait(fault.delay)
            if fault.accept_after_delay or fault.status is None:
                return True
        status = fault.status or 500
        headers = {}
        if status == 429:
            headers["Retry-After"] = str(int(fault.retry_after if fault.retry_after is not None else 1))
            code = "ratelimited"
        else:
            code = {500: "internal_error", 503: "service_unavailable"}.get(status, "fatal_error")
        handler.respond(status, json.dumps({"ok": False, "error": code}).encode(), headers)
        return False

    def handle(
        self, method: str, authorization: str | None, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        token = authorization[7:] if authorization and authorization.startswith("Bearer ") else params.get("token")
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if token != self.token:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        if self.rate_limiter is not None:
            allowed, _, reset = self.rate_limiter.hit()
            if not allowed:
                wait = str(max(1, math.ceil(reset - time.time())))
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": wait}
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method", "req_method": method}, {}
        with self._lock:
            self.calls[method] += 1
            try:
                return 200, {"ok": True, **handler(params)}, {}
            except SlackError as error:
                return 200, {"ok": False, "error": error.code, **error.extra}, {}

    def _channel(self, value: object) -> FakeChannel:
        if not value:
            raise SlackError("channel_not_found")
        key = str(value).lstrip("#")
        channel = self.channels.get(key) or self.channel_named(key)
        if channel is None:
            raise SlackError("channel_not_found")
        return channel

    def _user(self, value: object) -> dict[str, Any]:
        user = self.users.get(str(value))
        if user is None:
            raise SlackError("user_not_found")
        return user

    # -- methods (arguments as Slack documents them) ------------------------------------------------------

    def m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": "https://fake.slack.com/", "team": "Fake", "user": "tocsin", "team_id": TEAM_ID,
                "user_id": BOT_USER, "bot_id": "B0TOCSIN"}  # fmt: skip

    def m_conversations_create(self, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("name")
        if not name:
            raise SlackError("invalid_name_required")
        name = str(name)
        if len(name) > 80:
            raise SlackError("invalid_name_maxlength")
        if not any(c.isalnum() for c in name):
            raise SlackError("invalid_name_punctuation")
        if not set(name) <= _NAME_CHARS:
            raise SlackError("invalid_name_specials")
        if self.channel_named(name) is not None:
            raise SlackError("name_taken")
        channel = self.add_channel(name, members=(BOT_USER,), private=_flag(params.get("is_private")))
        return {"channel": channel.as_json()}

    def m_conversations_list(self, params: dict[str, Any]) -> dict[str, Any]:
        types = set(str(params.get("types") or "public_channel").split(","))
        exclude_archived = _flag(params.get("exclude_archived"))
        limit = min(max(int(params.get("limit") or 100), 1), 1000)
        offset = int(params.get("cursor") or 0)
        selected = [
            c
            for c in self.channels.values()
            if not c.is_im
            and (("private_channel" if c.is_private else "public_channel") in types)
            and not (exclude_archived and c.is_archived)
        ]
        page = selected[offset : offset + limit]
        next_cursor = str(offset + limit) if offset + limit < len(selected) else ""
        return {"channels": [c.as_json() for c in page], "response_metadata": {"next_cursor": next_cursor}}

    def m_conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"channel": self._channel(params.get("channel")).as_json()}

    def m_conversations_join(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params.get("channel"))
        if channel.is_archived:
            raise SlackError("is_archived")
        if channel.is_private or channel.is_im:
            raise SlackError("method_not_supported_for_channel_type")
        if BOT_USER in channel.members:
            return {"channel": channel.as_json(), "warning": "already_in_channel",
                    "response_metadata": {"warnings": ["already_in_channel"]}}  # fmt: skip
        channel.members.add(BOT_USER)
        return {"channel": channel.as_json()}

    def m_conversations_invite(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params.get("channel"))
        if channel.is_archived:
            raise SlackError("is_archived")
        if BOT_USER not in channel.members:
            raise SlackError("not_in_channel")
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users:
            raise SlackError("no_user")
        problems = []
        for user in users:
            if user not in self.users:
                problems.append({"user": user, "ok": False, "error": "user_not_found"})
            elif user == BOT_USER:
                problems.append({"user": user, "ok": False, "error": "cant_invite_self"})
            elif user in channel.members:
                problems.append({"user": user, "ok": False, "error": "already_in_channel"})
        refused = {p["user"] for p in problems}
        if problems and not _flag(params.get("force")):
            raise SlackError(problems[0]["error"], errors=problems)
        channel.members.update(u for u in users if u not in refused)
        return {"channel": channel.as_json(), **({"errors": problems} if problems else {})}

    def m_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 1:
            raise SlackError("not_enough_users" if len(users) < 2 else "method_not_supported_for_channel_type")
        user = self._user(users[0])["id"]
        if user in self._ims:
            return {"no_op": True, "already_open": True, "channel": {"id": self._ims[user]}}
        channel = FakeChannel(self._next_id("D"), "", is_im=True, im_user=user, members={BOT_USER, user})
        self.channels[channel.id] = channel
        self._ims[user] = channel.id
        return {"channel": {"id": channel.id}}

    def _message_fields(self, params: dict[str, Any]) -> dict[str, Any]:
        blocks = params.get("blocks")
        attachments = params.get("attachments")
        try:
            if isinstance(blocks, str):
                blocks = json.loads(blocks)
            if isinstance(attachments, str):
                attachments = json.loads(attachments)
        except ValueError:
            raise SlackError("invalid_blocks_format") from None
        problem = message_problem(params.get("text"), blocks, attachments)
        if problem is not None:
            code, details = problem
            raise SlackError(code, **({"response_metadata": {"messages": details}} if details else {}))
        return {"text": params.get("text") or "", "blocks": blocks or [], "attachments": attachments or []}

    def _writable(self, value: object) -> FakeChannel:
        channel = self._channel(value)
        if channel.is_archived:
            raise SlackError("is_archived")
        if BOT_USER not in channel.members:
            raise SlackError("not_in_channel")
        return channel

    def m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._writable(params.get("channel"))
        fields = self._message_fields(params)
        self._sequence += 1
        ts = f"{int(time.time())}.{self._sequence:06d}"
        message = {"type": "message", "user": BOT_USER, "bot_id": "B0TOCSIN", "ts": ts, **fields}
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        channel.messages[ts] = message
        return {"channel": channel.id, "ts": ts, "message": message}

    def m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._writable(params.get("channel"))
        ts = str(params.get("ts") or "")
        if ts not in channel.messages:
            raise SlackError("message_not_found")
        if channel.messages[ts].get("user") != BOT_USER:
            raise SlackError("cant_update_message")
        fields = self._message_fields(params)
        channel.messages[ts].update(fields, edited={"user": BOT_USER, "ts": ts})
        return {"channel": channel.id, "ts": ts, "text": fields["text"], "message": channel.messages[ts]}

    def m_pins_add(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params.get("channel"))
        ts = params.get("timestamp")
        if not ts:
            raise SlackError("no_item_specified")
        if ts not in channel.messages:
            raise SlackError("message_not_found")
        if BOT_USER not in channel.members:
            raise SlackError("not_in_channel")
        if ts in channel.pins:
            raise SlackError("already_pinned")
        channel.pins.append(str(ts))
        return {}

    def m_users_lookupByEmail(self, params: dict[str, Any]) -> dict[str, Any]:
        email = str(params.get("email") or "").lower()
        for user in self.users.values():
            if user["profile"]["email"].lower() == email:
                return {"user": user}
        raise SlackError("users_not_found")

    def m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"user": self._user(params.get("user"))}
