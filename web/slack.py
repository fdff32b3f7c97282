"""Slack's inbound requests: `POST /slack/actions` (button clicks) and `POST /slack/commands` (`/tocsin`).

Slack wants an answer within 3 seconds. The signature and age are checked at once (forged or older than
5 minutes → 401, nothing done), then the replay cache (`tocsin.web.replay_cache`: the same signed request a
second time gets an ephemeral refusal, nothing done); then Slack gets its acknowledgement and the work runs
in the background through the same handlers the service registers (`tocsin.web.slack_actions`), which map
the Slack user to a person and call the actions as them (the actions wake the waiting playbook runs). The
outcome is posted to the request's `response_url`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import tocsin.web.slack_actions  # noqa: F401  (registers the button and command handlers)
from fastapi import APIRouter, BackgroundTasks, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from slack_sdk.webhook import WebhookClient
from starlette.concurrency import run_in_threadpool
from tocsin.models import SignedDoor
from tocsin.notifications.slack_command import CommandError, parse_command
from tocsin.notifications.slack_inbound import (
    SlackAction,
    ephemeral,
    handle_interaction,
    handle_slash_command,
    parse_interaction,
    parse_slash_command,
    verify_request,
)
from tocsin.web.replay_cache import first_delivery

from tocsin.core.config import Settings

router = APIRouter(prefix="/slack", tags=["slack"])
log = logging.getLogger("tocsin.web.slack")
SLACK_HOOKS = ("https", "hooks.slack.com")
REPLAY_REFUSED = "Refused: Slack already delivered this exact request (a replay); nothing was done again."


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _signing_secret(settings: Settings) -> str | None:
    secret = settings.slack_signing_secret
    return secret.get_secret_value() if secret is not None and secret.get_secret_value() else None


def reply_allowed(url: str | None, settings: Settings) -> bool:
    """Post replies only to Slack itself (or to the Slack base URL configured for a local fake)."""
    if not url:
        return False
    target = urlsplit(url)
    if (target.scheme, target.hostname) == SLACK_HOOKS:
        return True
    if settings.slack_base_url:
        base = urlsplit(settings.slack_base_url)
        return (target.scheme, target.netloc) == (base.scheme, base.netloc)
    return False


def post_reply(url: str | None, reply: Mapping[str, Any], settings: Settings) -> None:
    if not reply:
        return
    if not reply_allowed(url, settings):
        log.warning("Slack reply not posted (no usable response_url): %s", reply.get("text"))
        return

    try:
        outcome = WebhookClient(str(url), timeout=10).send_dict({**reply, "replace_original": False})
        if outcome.status_code >= 300:
            log.warning("Slack refused the reply (%s): %s", outcome.status_code, outcome.body)
    except Exception:  # Slack unreachable: the action itself is done and on the timeline
        log.exception("could not post the reply to Slack")


async def _verified(request: Request) -> tuple[bytes, dict[str, str], str, float]:
    """The raw body, headers, secret and arrival time of a genuine Slack request."""
    secret = _signing_secret(_settings(request))
    if secret is None:
        raise HTTPException(503, "Slack is not configured (TOCSIN_SLACK_SIGNING_SECRET is not set)")
    body = await request.body()
    headers = dict(request.headers)
    arrived = time.time()
    verify_request(body, headers, secret, now=lambda: arrived)  # ForgedSlackRequest → 401
    return body, headers, secret, arrived


async def _first_delivery(body: bytes, headers: dict[str, str], arrived: float) -> bool:
    """False (and logged) when this exact signed request was already accepted: a replay."""
    stamp = headers["x-slack-request-timestamp"]  # verify_request checked it is there and recent
    if await run_in_threadpool(first_delivery, SignedDoor.slack, stamp, body, now=arrived):
        return True
    log.warning("replayed Slack request refused (timestamp %s)", stamp)
    return False


def run_actions(
    body: bytes, headers: dict[str, str], secret: str, arrived: float, actions: list[SlackAction], settings: Settings
) -> None:
    """Background: dispatch the clicks (each action wakes the runs waiting on its incident), tell the user how
    it went."""
    reply = handle_interaction(body, headers, secret, now=lambda: arrived)
    post_reply(actions[0].response_url, reply, settings)


def run_command(
    body: bytes, headers: dict[str, str], secret: str, arrived: float, response_url: str | None, settings: Settings
) -> None:
    reply = handle_slash_command(body, headers, secret, now=lambda: arrived)
    post_reply(response_url, reply, settings)


@router.post("/actions", summary="Slack interactivity URL (signed button clicks)")
async def actions(request: Request, tasks: BackgroundTasks) -> Response:
    body, headers, secret, arrived = await _verified(request)
    if not await _first_delivery(body, headers, arrived):
        return JSONResponse(ephemeral(REPLAY_REFUSED))
    clicks = parse_interaction(body)  # InvalidInput → 422 before anything is queued
    tasks.add_task(run_actions, body, headers, secret, arrived, clicks, _settings(request))
    return Response(status_code=200)


@router.post("/commands", summary="Slack slash command URL (`/tocsin ...`)")
async def commands(request: Request, tasks: BackgroundTasks) -> JSONResponse:
    body, headers, secret, arrived = await _verified(request)
    if not await _first_delivery(body, headers, arrived):
        return JSONResponse(ephemeral(REPLAY_REFUSED))
    command = parse_slash_command(body)
    try:
        name, _ = parse_command(command.text)
    except CommandError as error:  # a usage error needs no background work
        return JSONResponse(ephemeral(str(error)))
    tasks.add_task(run_command, body, headers, secret, arrived, command.response_url, _settings(request))
    return JSONResponse(ephemeral(f"Working on `{name}`…"))
