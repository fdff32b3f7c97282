"""SendGrid Event Webhook: parse the POSTed JSON array into typed events; verify the signed webhook.

Each event carries the personalization's `custom_args` as top-level keys, so `tocsin_message_id` maps it
back to exactly one Tocsin message. Suppression (stop emailing this address): bounce (except `blocked`,
a temporary refusal), dropped for a bounced/unsubscribed/spam-reporting address, spamreport, unsubscribe,
group_unsubscribe.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tocsin.notifications.message import MESSAGE_ID_ARG

from tocsin.core.errors import Forbidden, InvalidInput

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


class EventType(StrEnum):
    PROCESSED = "processed"
    DELIVERED = "delivered"
    DEFERRED = "deferred"
    BOUNCE = "bounce"
    DROPPED = "dropped"
    SPAMREPORT = "spamreport"
    UNSUBSCRIBE = "unsubscribe"
    GROUP_UNSUBSCRIBE = "group_unsubscribe"
    GROUP_RESUBSCRIBE = "group_resubscribe"
    OPEN = "open"
    CLICK = "click"


_DROPPED_SUPPRESSING = ("bounced address", "unsubscribed address", "spam reporting address")


@dataclass(frozen=True, slots=True)
class DeliveryEvent:
    message_id: str | None
    email: str
    event: EventType
    timestamp: datetime
    reason: str | None = None
    bounce_type: str | None = None
    sg_event_id: str | None = None
    sg_message_id: str | None = None
    asm_group_id: int | None = None

    @property
    def suppresses(self) -> bool:
        """True when this address must not be emailed again."""
        if self.event in (EventType.SPAMREPORT, EventType.UNSUBSCRIBE, EventType.GROUP_UNSUBSCRIBE):
            return True
        if self.event is EventType.BOUNCE:
            return self.bounce_type != "blocked"
        if self.event is EventType.DROPPED:
            reason = (self.reason or "").lower()
            return any(marker in reason for marker in _DROPPED_SUPPRESSING)
        return False


def _event(index: int, item: object, message_id_arg: str) -> DeliveryEvent | None:
    where = f"sendgrid event [{index}]"
    if not isinstance(item, dict):
        raise InvalidInput("event is not an object", where=where)
    try:
        kind = EventType(item.get("event"))
    except ValueError:
        return None  # an event type Tocsin does not use (forward compatible)
    email, stamp = item.get("email"), item.get("timestamp")
    if not isinstance(email, str) or not email:
        raise InvalidInput("event has no email", where=where)
    if not isinstance(stamp, int | float) or isinstance(stamp, bool):
        raise InvalidInput("event has no numeric timestamp", where=where)
    message_id = item.get(message_id_arg)
    if message_id is None and isinstance(item.get("unique_args"), dict):  # legacy shape
        message_id = item["unique_args"].get(message_id_arg)
    reason = item.get("reason") or item.get("response")
    group = item.get("asm_group_id")
    return DeliveryEvent(
        message_id=str(message_id) if message_id is not None else None,
        email=email.lower(),
        event=kind,
        timestamp=datetime.fromtimestamp(stamp, UTC),
        reason=str(reason) if reason is not None else None,
        bounce_type=item.get("type") if kind is EventType.BOUNCE else None,
        sg_event_id=item.get("sg_event_id"),
        sg_message_id=item.get("sg_message_id"),
        asm_group_id=int(group) if isinstance(group, int | str) and str(group).isdigit() else None,
    )


def parse_events(body: bytes | str, *, message_id_arg: str = MESSAGE_ID_ARG) -> list[DeliveryEvent]:
    """Typed events from an Event Webhook POST body; unknown event types are skipped."""
    try:
        decoded: Any = json.loads(body)
    except ValueError:
        raise InvalidInput("Event Webhook body is not JSON", where="sendgrid events") from None
    if not isinstance(decoded, list):
        raise InvalidInput("Event Webhook body must be a JSON array", where="sendgrid events")
    events = (_event(index, item, message_id_arg) for index, item in enumerate(decoded))
    return [event for event in events if event is not None]


class ForgedSendGridEvent(Forbidden):
    """The Event Webhook request is not signed by SendGrid's key, or is too old."""


def verify_event_signature(
    public_key: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    *,
    max_age_seconds: float = 600.0,
    now: Callable[[], float] = time.time,
) -> None:
    """Raise `ForgedSendGridEvent` unless ECDSA(SHA-256) over `timestamp + body` matches SendGrid's key.

    `public_key` is the base64 key shown in SendGrid's Mail Settings (needs the `cryptography` package).
    """
    from sendgrid.helpers.eventwebhook import EventWebhook  # imports cryptography

    if not signature or not timestamp:
        raise ForgedSendGridEvent("missing Event Webhook signature headers", where="sendgrid events")
    try:
        age = abs(now() - int(timestamp))
        base64.b64decode(signature, validate=True)
    except ValueError:
        raise ForgedSendGridEvent("malformed Event Webhook signature headers", where="sendgrid events") from None
    if age > max_age_seconds:
        raise ForgedSendGridEvent(f"stale Event Webhook request ({int(age)} s old)", where="sendgrid events")
    webhook = EventWebhook(public_key)
    if not webhook.verify_signature(body.decode("utf-8"), signature, timestamp):
        raise ForgedSendGridEvent("Event Webhook signature does not match", where="sendgrid events")
