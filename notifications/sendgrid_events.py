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

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from tocsin.notifications.message import MESSAGE_ID_ARG

from tocsin.core.errors import Forbidden, InvalidInput

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
# A signed request is accepted this long either side of its timestamp; within it, a replay is refused by the
# replay cache (tocsin.web.replay_cache), so the same POST is applied once.
MAX_AGE_SECONDS = 600


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
    try:
        when = datetime.fromtimestamp(stamp, UTC)
    except (ValueError, OverflowError, OSError):  # NaN, or a time no calendar holds
        raise InvalidInput(f"event timestamp {str(stamp)[:24]} is out of range", where=where) from None
    message_id = item.get(message_id_arg)
    if message_id is None and isinstance(item.get("unique_args"), dict):  # legacy shape
        message_id = item["unique_args"].get(message_id_arg)
    reason = item.get("reason") or item.get("response")
    group = str(item.get("asm_group_id")) if isinstance(item.get("asm_group_id"), int | str) else ""
    return DeliveryEvent(
        message_id=_text(message_id),
        email=email.lower(),
        event=kind,
        timestamp=when,
        reason=str(reason) if reason is not None else None,
        bounce_type=_text(item.get("type")) if kind is EventType.BOUNCE else None,
        sg_event_id=_text(item.get("sg_event_id")),
        sg_message_id=_text(item.get("sg_message_id")),
        asm_group_id=int(group) if group.isascii() and group.isdigit() and len(group) < 10 else None,
    )


def _text(value: object) -> str | None:
    """A string field as text (numbers too); None when missing or of another shape (objects, lists)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def parse_events(body: bytes | str, *, message_id_arg: str = MESSAGE_ID_ARG) -> list[DeliveryEvent]:
    """Typed events from an Event Webhook POST body; unknown event types are skipped."""
    try:
        decoded: Any = json.loads(body)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested deeper than json reads
        raise InvalidInput("Event Webhook body is not JSON", where="sendgrid events") from None
    if not isinstance(decoded, list):
        raise InvalidInput("Event Webhook body must be a JSON array", where="sendgrid events")
    events = (_event(index, item, message_id_arg) for index, item in enumerate(decoded))
    return [event for event in events if event is not None]


class ForgedSendGridEvent(Forbidden):
    """The Event Webhook request is not signed by SendGrid's key, or is too old."""


class NotAPublicKey(ValueError):
    """The configured Event Webhook key is not SendGrid's base64 ECDSA public key."""


def load_public_key(public_key: str) -> ec.EllipticCurvePublicKey:
    """SendGrid's verification key: the base64 DER body of a PEM public key, as Mail Settings shows it. Checked
    when the settings load (TOCSIN_SENDGRID_WEBHOOK_PUBLIC_KEY), so a bad key stops `tocsin serve` at start."""
    pem = f"-----BEGIN PUBLIC KEY-----\n{public_key.strip()}\n-----END PUBLIC KEY-----".encode()
    where = "SendGrid: Settings → Mail Settings → Signed Event Webhook → Verification Key"
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm):
        raise NotAPublicKey(f"not a base64 public key; copy it from {where}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise NotAPublicKey(f"not an ECDSA public key; copy it from {where}")
    return key


def _public_key(public_key: str) -> ec.EllipticCurvePublicKey:
    """The key for one verification; settings built without validation (tests' `model_copy`) are refused here."""
    try:
        return load_public_key(public_key)
    except NotAPublicKey as error:
        raise InvalidInput(f"TOCSIN_SENDGRID_WEBHOOK_PUBLIC_KEY is {error}", where="settings") from None


def verify_event_signature(
    public_key: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    *,
    max_age_seconds: float = MAX_AGE_SECONDS,
    now: Callable[[], float] = time.time,
) -> None:
    """Raise `ForgedSendGridEvent` unless ECDSA(SHA-256) over `timestamp + body` matches SendGrid's key.

    Verified over the raw bytes (SendGrid's helper decodes the body as UTF-8 first, which turned a non-UTF-8
    body into a server error). `public_key` is the base64 key shown in SendGrid's Mail Settings.
    """
    if not signature or not timestamp:
        raise ForgedSendGridEvent("missing Event Webhook signature headers", where="sendgrid events")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise ForgedSendGridEvent("malformed Event Webhook timestamp header", where="sendgrid events")
    try:
        decoded = base64.b64decode(signature, validate=True)
    except ValueError:
        raise ForgedSendGridEvent("malformed Event Webhook signature header", where="sendgrid events") from None
    age = abs(now() - int(timestamp))
    if age > max_age_seconds:
        raise ForgedSendGridEvent(f"stale Event Webhook request ({int(age)} s old)", where="sendgrid events")
    try:
        _public_key(public_key).verify(decoded, timestamp.encode("ascii") + body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ForgedSendGridEvent("Event Webhook signature does not match", where="sendgrid events") from None
