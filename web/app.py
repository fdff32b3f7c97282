"""The FastAPI application: `create_app(settings)` wires the routers, the error mapping and the state
kept for the life of the process (the settings, the per-brand mention detectors)."""

from __future__ import annotations

import logging
from importlib.metadata import version
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text
from tocsin.web import (
    api_drafts,
    api_escalations,
    api_incidents,
    api_people,
    api_playbooks,
    api_suppressions,
    api_tokens,
    api_waves,
    mentions,
    slack,
    webhooks,
)
from tocsin.web.body_limit import BodyLimitMiddleware, BodyLimits
from tocsin.web.console.routes import install_console
from tocsin.web.errors import install_error_handlers

from tocsin.core.config import Settings, get_settings
from tocsin.db.engine import session_scope
from tocsin.db.migrate import SCHEMA_HEAD

log = logging.getLogger("tocsin.web")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app. The database is the one the process settings name (`TOCSIN_DATABASE_URL`); Slack's signing
    secret, SendGrid's webhook key and the pseudonym key come from `settings`."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Tocsin",
        version=version("tocsin"),
        description=(
            "Incident response with the regulators' clocks built in. `/api/*` needs "
            "`Authorization: Bearer <token>` (`tocsin token create PERSON`, or `POST /api/login` with a console "
            "password); every change is refused (403, on the incident's timeline) unless the role policy "
            "(`tocsin policy`) lets the token's person take it. `/slack/*` and "
            "`/webhooks/*` are verified by their providers' signatures. The web console (log in at `/login`) "
            "is served by the same app."
        ),
    )
    app.state.settings = settings
    app.state.mention_watch = mentions.MentionWatch.from_settings(settings)
    install_error_handlers(app)
    routers = (
        api_incidents, api_playbooks, api_drafts, api_escalations, api_people, api_tokens, api_suppressions,
        api_waves, mentions, slack, webhooks,
    )  # fmt: skip
    for module in routers:
        app.include_router(module.router)
    install_console(app, settings)
    app.add_api_route("/api/health", health, methods=["GET"], tags=["health"], summary="Liveness and database check")
    # Outermost: an oversized body is refused before any middleware or handler (or authentication) reads it.
    app.add_middleware(BodyLimitMiddleware, limits=BodyLimits.from_settings(settings))
    if webhooks.webhook_key(settings) is None and settings.sendgrid_webhook_insecure:
        log.warning(
            "INSECURE: TOCSIN_SENDGRID_WEBHOOK_INSECURE=true and no TOCSIN_SENDGRID_WEBHOOK_PUBLIC_KEY: "
            "/webhooks/sendgrid accepts UNSIGNED POSTs (anyone can mark deliveries and suppress addresses)"
        )
    elif webhooks.webhook_key(settings) is None:
        log.warning("TOCSIN_SENDGRID_WEBHOOK_PUBLIC_KEY is not set: /webhooks/sendgrid refuses every POST")
    return app


def health() -> dict[str, Any]:
    with session_scope() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok", "schema": SCHEMA_HEAD}
