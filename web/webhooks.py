"""`POST /webhooks/sendgrid`: SendGrid's Event Webhook → delivery statuses and the suppression list.

With `sendgrid_webhook_public_key` set (TOCSIN_SENDGRID_WEBHOOK_PUBLIC_KEY), an unsigned, forged or stale POST
is refused with 401 and nothing is written. Without it every POST is refused (403, naming the setting): a
forged `spamreport` would otherwise suppress a real address. Only `TOCSIN_SENDGRID_WEBHOOK_INSECURE=true`
(local testing; warned about at startup) accepts unsigned POSTs. The body size is capped before it is read
(`web_max_webhook_body_bytes`, tocsin.web.body_limit).

A signed POST is applied once: the same signed body again within its 10 minutes (a replay) is answered 200
with `"replay": true` and changes nothing (`tocsin.web.replay_cache`, recorded in the transaction that applies
the events, so a POST that failed is applied when SendGrid retries it). 200, not an error: SendGrid retries
what it sees refused.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from tocsin.models import SignedDoor
from tocsin.notifications.sendgrid_events import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_event_signature
from tocsin.web.replay_cache import ReplayedRequest, maybe_prune, remember

from tocsin.core.config import Settings
from tocsin.db.engine import session_scope
from tocsin.wave.deliveries import IngestSummary, ingest_sendgrid_events

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
log = logging.getLogger("tocsin.web.webhooks")
NOT_CONFIGURED = (
    "the SendGrid Event Webhook is not configured: set TOCSIN_SENDGRID_WEBHOOK_PUBLIC_KEY (SendGrid: Settings → "
    "Mail Settings → Signed Event Webhook); unsigned POSTs are accepted only with "
    "TOCSIN_SENDGRID_WEBHOOK_INSECURE=true"
)
REPLAY_IGNORED = "SendGrid already delivered this exact signed request (a replay); nothing was applied again"


def webhook_key(settings: Settings) -> str | None:
    key = settings.sendgrid_webhook_public_key
    return key.get_secret_value() if key is not None and key.get_secret_value() else None


@router.post("/sendgrid", summary="SendGrid Event Webhook (delivered, bounce, dropped, spam report, ...)")
async def sendgrid_events(request: Request) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    public_key = webhook_key(settings)
    if public_key is None and not settings.sendgrid_webhook_insecure:
        raise HTTPException(403, NOT_CONFIGURED)
    body = await request.body()
    arrived = time.time()
    stamp: str | None = None
    if public_key is not None:
        stamp = request.headers.get(TIMESTAMP_HEADER)
        signature = request.headers.get(SIGNATURE_HEADER)
        verify_event_signature(public_key, body, signature, stamp, now=lambda: arrived)  # → 401
    return await run_in_threadpool(_ingest, body, stamp, arrived)


def _ingest(body: bytes, signed_at: str | None, arrived: float) -> dict[str, Any]:
    """Apply the events; a signed body is first recorded in the same transaction (`signed_at` is None only for
    the unsigned POSTs of TOCSIN_SENDGRID_WEBHOOK_INSECURE: nothing to recognise a replay by)."""
    try:
        with session_scope() as session:
            if signed_at is not None:
                remember(session, SignedDoor.sendgrid, signed_at, body, now=arrived)
            summary = ingest_sendgrid_events(session, body, {})  # the signature was verified above
    except ReplayedRequest:
        log.warning("replayed SendGrid Event Webhook POST ignored (timestamp %s)", signed_at)
        return {**IngestSummary().as_dict(), "replay": True, "detail": REPLAY_IGNORED}
    if signed_at is not None:
        maybe_prune(arrived)
    return {**summary.as_dict(), "replay": False}
