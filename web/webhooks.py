"""`POST /webhooks/sendgrid`: SendGrid's Event Webhook → delivery statuses and the suppression list.

With `sendgrid_webhook_public_key` set (TOCSIN_SENDGRID_WEBHOOK_PUBLIC_KEY), an unsigned, forged or
stale POST is refused with 401 and nothing is written. Without it the endpoint accepts any POST: set the
key (SendGrid: Settings → Mail Settings → Signed Event Webhook) before exposing the service.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from tocsin.db.engine import session_scope
from tocsin.wave.deliveries import ingest_sendgrid_events

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
MAX_BODY = 16 * 1024 * 1024  # SendGrid batches events; a POST is far below this


@router.post("/sendgrid", summary="SendGrid Event Webhook (delivered, bounce, dropped, spam report, ...)")
async def sendgrid_events(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, f"body of {len(body)} bytes is larger than {MAX_BODY}")
    key = request.app.state.settings.sendgrid_webhook_public_key
    public_key = key.get_secret_value() if key is not None and key.get_secret_value() else None
    headers = dict(request.headers)
    return await run_in_threadpool(_ingest, body, headers, public_key)


def _ingest(body: bytes, headers: dict[str, str], public_key: str | None) -> dict[str, Any]:
    with session_scope() as session:
        return ingest_sendgrid_events(session, body, headers, public_key=public_key).as_dict()
