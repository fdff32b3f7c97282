"""The hash chain of the audit timeline (pure: no I/O).

Each event's hash covers the previous event's hash and the event's own canonical content, so
editing, deleting or reordering any event breaks the chain at a place `verify_chain` names.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(
    *, prev_hash: str, incident_id: int, seq: int, at: datetime, actor: str, action: str, payload: Any
) -> str:
    body = canonical(
        {
            "incident": incident_id,
            "seq": seq,
            "at": at.isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "payload": payload,
        }
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainEvent:
    id: int
    seq: int
    at: datetime
    actor: str
    action: str
    payload: Any
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainProblem:
    seq: int | None
    event_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"event #{self.seq} (row id {self.event_id})" if self.seq is not None else "timeline"
        return f"{where}: {self.problem}"


def verify_chain(incident_id: int, events: list[ChainEvent], *, head_seq: int, head_hash: str) -> list[ChainProblem]:
    """Every problem found; an empty list means the timeline is intact.

    `events` must be in storage order (row id). `head_seq`/`head_hash` are the chain head kept on
    the incident row, which catches deletion of the newest events.
    """
    problems: list[ChainProblem] = []
    previous_hash = GENESIS
    expected_seq = 1
    for event in events:
        if event.seq != expected_seq:
            kind = "missing" if event.seq > expected_seq else "out of order"
            problems.append(
                ChainProblem(
                    event.seq,
                    event.id,
                    f"sequence jumps from {expected_seq - 1} to {event.seq}: event(s) {kind}",
                )
            )
        if event.prev_hash != previous_hash:
            problems.append(
                ChainProblem(event.seq, event.id, "does not link to the event before it (deleted or reordered)")
            )
        recomputed = event_hash(
            prev_hash=event.prev_hash,
            incident_id=incident_id,
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            action=event.action,
            payload=event.payload,
        )
        if recomputed != event.hash:
            problems.append(
                ChainProblem(event.seq, event.id, f"content was edited (action {event.action!r}, by {event.actor})")
            )
        previous_hash = event.hash
        expected_seq = event.seq + 1
    last_seq = events[-1].seq if events else 0
    if last_seq != head_seq or previous_hash != (head_hash or GENESIS):
        problems.append(
            ChainProblem(
                None,
                None,
                f"the chain ends at event #{last_seq} but the incident records #{head_seq} as the newest: "
                "events were deleted or replaced at the end",
            )
        )
    return problems
