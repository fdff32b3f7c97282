"""Inbound Slack HTTP requests: signature check, interactive payloads, slash commands, handler registry.

No web framework here: give `handle_interaction` / `handle_slash_command` the raw body bytes and headers;
they return the JSON to answer with (the lead mounts them in FastAPI). Slack signs every request with
HMAC-SHA256 of `v0:<timestamp>:<body>`; a request whose signature does not match, or whose timestamp is more
than 5 minutes away from now (a replay), raises `ForgedSlackRequest` (answer HTTP 401).

Handlers register by decorator, like the "Response" project's handlers:

    @on_action(ACK_ACTION)
    def acknowledge(action: SlackAction) -> str | None: ...      # text shown back to the user, or None

    @on_command("declare")
    def declare(command: DeclareCommand, request: SlashCommand) -> str: ...
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from tocsin.notifications.slack_blocks import decode_button_value
from tocsin.notifications.slack_command import CommandError, DeclareCommand, parse_command

from tocsin.core.errors import Forbidden, InvalidInput

MAX_AGE_SECONDS = 5 * 60

__all__ = [
    "CommandError",
    "DeclareCommand",
    "ForgedSlackRequest",
    "HandlerRegistry",
    "SlackAction",
    "SlashCommand",
    "handle_interaction",
    "handle_slash_command",
    "on_action",
    "on_command",
    "parse_interaction",
    "parse_slash_command",
    "registry",
    "verify_request",
]


class ForgedSlackRequest(Forbidden):
    """The request is not from Slack (bad or missing signature) or is a replay (stale timestamp)."""


def expected_signature(body: bytes, timestamp: str, signing_secret: str) -> str:
    """Slack's `v0=` HMAC-SHA256 over the raw bytes (slack_sdk's verifier decodes the body as UTF-8 first,
    which turned a non-UTF-8 body into a server error)."""
    base = b"v0:" + timestamp.encode("utf-8") + b":" + body
    return "v0=" + hmac.new(signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def verify_request(
    body: bytes, headers: Mapping[str, str], signing_secret: str, *, now: Callable[[], float] = time.time
) -> None:
    """Raise `ForgedSlackRequest` unless Slack signed this body within the last 5 minutes."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get("x-slack-request-timestamp")
    signature = lowered.get("x-slack-signature")
    if not timestamp or not signature:
        raise ForgedSlackRequest("missing Slack signature headers", where="slack request")
    # Unix seconds in ASCII digits; 12 digits cover every plausible time (and keep int() and float cheap).
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise ForgedSlackRequest("malformed Slack timestamp", where="slack request")
    age = abs(now() - int(timestamp))
    if age > MAX_AGE_SECONDS:
        raise ForgedSlackRequest(f"stale Slack request ({int(age)} s old; replay refused)", where="slack request")
    wanted = expected_signature(body, timestamp, signing_secret)
    if not hmac.compare_digest(wanted.encode("utf-8"), signature.encode("utf-8", "replace")):
        raise ForgedSlackRequest("Slack signature does not match", where="slack request")


@dataclass(frozen=True, slots=True)
class SlackAction:
    """One clicked button from a `block_actions` payload. `ids` = the ids Tocsin put in the button value."""

    action_id: str
    value: str | None
    slack_user_id: str
    slack_user_name: str | None
    team_id: str | None
    channel_id: str | None
    message_ts: str | None
    block_id: str | None
    response_url: str | None
    trigger_id: str | None

    @property
    def ids(self) -> dict[str, str]:
        try:
            return decode_button_value(self.value)
        except RecursionError:  # a value nested too deeply for json: not a Tocsin button
            return {}


@dataclass(frozen=True, slots=True)
class SlashCommand:
    command: str
    text: str
    user_id: str
    user_name: str | None
    channel_id: str | None
    team_id: str | None
    response_url: str | None
    trigger_id: str | None


def _form(body: bytes) -> dict[str, str]:
    try:
        # errors="strict": a percent-encoded byte that is not UTF-8 (payload=%FF) is refused, not replaced.
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict"))
    except UnicodeDecodeError:
        raise InvalidInput("Slack request body is not UTF-8", where="slack request") from None
    except ValueError as error:  # parse_qsl's own refusals (e.g. too many fields)
        raise InvalidInput(f"Slack request body is not a form ({error})", where="slack request") from None


def _object(value: object) -> dict[str, Any]:
    """A JSON object field, or {} when Slack-shaped data is missing or has another shape."""
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str | None:
    """A string field, or None when it is missing or not a string (numbers are taken as their text)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def parse_interaction(body: bytes) -> list[SlackAction]:
    """The button clicks in an interactive request (form field `payload`, JSON, type `block_actions`)."""
    raw = _form(body).get("payload")
    if raw is None:
        raise InvalidInput("no payload field in the Slack interaction", where="slack interaction")
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: arrays nested deeper than json can read
        raise InvalidInput("Slack interaction payload is not JSON", where="slack interaction") from None
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        kind = _text(payload.get("type")) if isinstance(payload, dict) else type(payload).__name__
        raise InvalidInput(f"unsupported Slack interaction type {str(kind)[:40]!r}", where="slack interaction")
    user = _object(payload.get("user"))
    container = _object(payload.get("container"))
    channel = _object(payload.get("channel"))
    message = _object(payload.get("message"))
    team = _object(payload.get("team"))
    items = payload.get("actions")
    actions = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not _text(item.get("action_id")):
            continue
        actions.append(
            SlackAction(
                action_id=str(_text(item.get("action_id"))),
                value=_text(item.get("value")),
                slack_user_id=_text(user.get("id")) or "",
                slack_user_name=_text(user.get("username")) or _text(user.get("name")),
                team_id=_text(team.get("id")) or _text(user.get("team_id")),
                channel_id=_text(channel.get("id")) or _text(container.get("channel_id")),
                message_ts=_text(container.get("message_ts")) or _text(message.get("ts")),
                block_id=_text(item.get("block_id")),
                response_url=_text(payload.get("response_url")),
                trigger_id=_text(payload.get("trigger_id")),
            )
        )
    if not actions or not actions[0].slack_user_id:
        raise InvalidInput("Slack interaction has no action or no user", where="slack interaction")
    return actions


def parse_slash_command(body: bytes) -> SlashCommand:
    form = _form(body)
    if not form.get("command") or not form.get("user_id"):
        raise InvalidInput("not a Slack slash command (no command or user_id)", where="slack command")
    return SlashCommand(
        command=form["command"],
        text=form.get("text", ""),
        user_id=form["user_id"],
        user_name=form.get("user_name"),
        channel_id=form.get("channel_id"),
        team_id=form.get("team_id"),
        response_url=form.get("response_url"),
        trigger_id=form.get("trigger_id"),
    )


ActionHandler = Callable[[SlackAction], str | None]
CommandHandler = Callable[[Any, SlashCommand], str | None]
F = TypeVar("F", bound=Callable[..., Any])


class HandlerRegistry:
    def __init__(self) -> None:
        self.actions: dict[str, ActionHandler] = {}
        self.commands: dict[str, CommandHandler] = {}

    def on_action(self, action_id: str) -> Callable[[F], F]:
        def register(function: F) -> F:
            if action_id in self.actions:
                raise ValueError(f"a handler for action {action_id!r} is already registered")
            self.actions[action_id] = function
            return function

        return register

    def on_command(self, name: str) -> Callable[[F], F]:
        def register(function: F) -> F:
            if name in self.commands:
                raise ValueError(f"a handler for command {name!r} is already registered")
            self.commands[name] = function
            return function

        return register


registry = HandlerRegistry()
on_action = registry.on_action
on_command = registry.on_command


def ephemeral(text: str) -> dict[str, Any]:
    """A reply only the person who acted sees."""
    return {"response_type": "ephemeral", "text": text}


def handle_interaction(
    body: bytes,
    headers: Mapping[str, str],
    signing_secret: str,
    *,
    handlers: HandlerRegistry = registry,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Verify, parse and dispatch a button click; returns the JSON to answer Slack with."""
    verify_request(body, headers, signing_secret, now=now)
    replies = []
    for action in parse_interaction(body):
        handler = handlers.actions.get(action.action_id)
        if handler is None:
            replies.append(f"Tocsin does not know the action `{action.action_id}`.")
            continue
        reply = handler(action)
        if reply:
            replies.append(reply)
    return ephemeral("\n".join(replies)) if replies else {}


def handle_slash_command(
    body: bytes,
    headers: Mapping[str, str],
    signing_secret: str,
    *,
    handlers: HandlerRegistry = registry,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Verify, parse and dispatch `/tocsin ...`; a usage error comes back as an ephemeral message."""
    verify_request(body, headers, signing_secret, now=now)
    request = parse_slash_command(body)
    try:
        name, command = parse_command(request.text)
    except CommandError as error:
        return ephemeral(str(error))
    handler = handlers.commands.get(name)
    if handler is None:
        return ephemeral(f"`{name}` is not available yet.")
    return ephemeral(handler(command, request) or "Done.")
