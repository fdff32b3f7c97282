"""The replay cache of the signed doors: a signed Slack request or SendGrid Event Webhook POST is accepted once.

Both senders sign `<timestamp> + <body>` and accept the signature for a window (Slack 5 minutes, SendGrid 10)
either side of the timestamp, so within it a captured request could be posted again: four `/tocsin declare`
replays made four incidents, and a replayed Event Webhook POST was applied again. Each accepted request's
SHA-256 of `<timestamp>:<body>` (what the signature covers: an ECDSA signature can be re-encoded, the signed
bytes cannot) is INSERTed into `signed_request_seen`, whose unique key (door, hash) makes the check atomic
across threads and `tocsin serve` processes: of two identical requests exactly one INSERT succeeds. Rows whose
request is stale anyway are pruned.

Slack's request is recorded in its own transaction (Slack is answered at once, the work runs in the background);
SendGrid's in the transaction that applies its events, so a POST that fails half-way is not remembered and
SendGrid's retry of it is applied.
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import UTC, datetime

from sqlalchemy import Insert, delete, insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session
from tocsin.models import SignedDoor, SignedRequestSeen
from tocsin.notifications import sendgrid_events, slack_inbound

from tocsin.db.engine import current_engine

log = logging.getLogger("tocsin.web.replay")
PRUNE_EVERY_SECONDS = 60.0  # per process; pruning is housekeeping, the unique key is the guard
# How long each door accepts a signed request, either side of its timestamp.
WINDOW_SECONDS: dict[SignedDoor, int] = {
    SignedDoor.slack: slack_inbound.MAX_AGE_SECONDS,
    SignedDoor.sendgrid: sendgrid_events.MAX_AGE_SECONDS,
}
_last_prune = 0.0


class ReplayedRequest(Exception):
    """This exact signed request was already accepted (a replay)."""

    def __init__(self, door: SignedDoor, timestamp: str) -> None:
        super().__init__(f"{door.value} request signed at {timestamp} was already accepted (a replay)")
        self.door = door
        self.timestamp = timestamp


def request_key(timestamp: str, body: bytes) -> str:
    """What identifies one signed request: the bytes its signature covers."""
    return hashlib.sha256(timestamp.encode("utf-8") + b":" + body).hexdigest()


def _row(door: SignedDoor, timestamp: str, body: bytes, arrived: float) -> Insert:
    signed_at = int(timestamp)
    return insert(SignedRequestSeen).values(
        door=door.value,
        request_sha256=request_key(timestamp, body),
        signed_at=signed_at,
        forget_after=signed_at + WINDOW_SECONDS[door],
        seen_at=datetime.fromtimestamp(arrived, UTC),
    )


def first_delivery(door: SignedDoor, timestamp: str, body: bytes, *, now: float | None = None) -> bool:
    """Record the request in its own transaction; False when it was already recorded (a replay). Call only
    after the signature and age checks passed, so `timestamp` is an integer within the window."""
    arrived = time.time() if now is None else now
    try:
        with current_engine().begin() as connection:  # one statement, no ORM session: this is on every request
            connection.execute(_row(door, timestamp, body, arrived))
    except IntegrityError:
        return False
    maybe_prune(arrived)
    return True


def remember(session: Session, door: SignedDoor, timestamp: str, body: bytes, *, now: float | None = None) -> None:
    """Record the request in the caller's transaction (it counts as seen only if that commits); raises
    `ReplayedRequest` when it was already recorded, or is being recorded by a transaction that then commits.
    The caller's transaction is unusable afterwards: let the error roll it back."""
    arrived = time.time() if now is None else now
    try:
        session.connection().execute(_row(door, timestamp, body, arrived))
    except IntegrityError:
        raise ReplayedRequest(door, timestamp) from None


def prune(now: float) -> int:
    """Forget requests that are stale by now (a replay of them is refused by the age check); how many went."""
    with current_engine().begin() as connection:
        gone = connection.execute(delete(SignedRequestSeen).where(SignedRequestSeen.forget_after < int(now)))
        return int(gone.rowcount or 0)


def maybe_prune(now: float) -> None:
    """Prune at most once a minute per process; outside any other open transaction."""
    global _last_prune
    if now - _last_prune < PRUNE_EVERY_SECONDS:
        return
    _last_prune = now
    try:
        prune(now)
    except DBAPIError as error:  # e.g. two processes pruning at once; the next prune catches up
        log.info("replay cache not pruned this time: %s", error.__class__.__name__)
