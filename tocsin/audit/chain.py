"""The hash chain of the audit timeline (pure: no I/O).

Each event's hash covers the previous event's hash and the event's own canonical content, so
editing, deleting or reordering any event breaks the chain at a place `verify_chain` names.

Events are keyed: HMAC-SHA256 with the audit key (kept outside the database), and each row records
the id of the key that signed it. Rows without a key id were written before the keyed chain existed
("legacy"): they are checked with the old unkeyed SHA-256, and accepted only where they could really
predate the keyed chain: at the start of a chain (an unkeyed row after a keyed one is a downgrade) and at
or below the database's legacy boundary (`legacy_limit`, from the keyed marker in `tocsin.audit.boundary`).
Any other unkeyed row is reported as tampering.

The hash covers the payload in its stored form (`stored_form`): what the JSON column gives back,
so an event hashes the same when it is appended and when it is verified on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any
from uuid import UUID

GENESIS = "0" * 64
KEY_ID_LENGTH = 8
LEGACY_NOTE = "unkeyed (written before the keyed chain)"


def key_id_of(key: bytes) -> str:
    """A short public name for a key: the first 8 hex digits of its SHA-256 (says which key, reveals nothing)."""
    return hashlib.sha256(key).hexdigest()[:KEY_ID_LENGTH]


def stored_form(value: Any) -> Any:
    """`value` as plain JSON (dict, list, str, int, float, bool, None): what the JSON column stores and gives
    back. Datetimes become ISO 8601, Decimals exact strings, enums their values, tuples and sets lists,
    non-finite floats strings (PostgreSQL's JSONB refuses them), mapping keys strings."""
    if value is None or isinstance(value, bool | int | str):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Enum):
        return stored_form(value.value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, UUID | PurePath):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(stored_form(k)): stored_form(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((stored_form(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, list | tuple):
        return [stored_form(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return stored_form(dataclasses.asdict(value))
    if hasattr(value, "model_dump"):  # pydantic models
        return stored_form(value.model_dump(mode="json"))
    return str(value)


def _number_neutral(value: Any) -> Any:
    """Integral floats as ints: PostgreSQL's JSONB gives `1e+20` back as an integer, so the keyed hash does
    not depend on whether a whole number comes back as int or float."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _number_neutral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_number_neutral(v) for v in value]
    return value


def canonical(value: Any) -> str:
    """The legacy (unkeyed) canonical text, kept byte for byte so legacy events still verify."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _body(*, incident_id: int, seq: int, at: datetime, actor: str, action: str, payload: Any) -> dict[str, Any]:
    return {
        "incident": incident_id,
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "payload": payload,
    }


def event_hash(
    *, prev_hash: str, incident_id: int, seq: int, at: datetime, actor: str, action: str, payload: Any
) -> str:
    """The legacy unkeyed hash (events without a key id)."""
    body = canonical(_body(incident_id=incident_id, seq=seq, at=at, actor=actor, action=action, payload=payload))
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


# Legacy events were hashed with the clock's own offset (a drill's clock could carry +01:00) but stored in UTC:
# their original offset is lost, so a mismatch is retried at every quarter-hour offset before it is called an edit.
LEGACY_OFFSETS = [timezone(timedelta(minutes=15 * q)) for q in range(-48, 57) if q != 0]


def legacy_hash_matches(expected: str, *, at: datetime, **content: Any) -> bool:
    if event_hash(at=at, **content) == expected:
        return True
    return any(event_hash(at=at.astimezone(zone), **content) == expected for zone in LEGACY_OFFSETS)


def keyed_event_hash(
    key: bytes, *, prev_hash: str, incident_id: int, seq: int, at: datetime, actor: str, action: str, payload: Any
) -> str:
    """HMAC-SHA256 over the previous hash and the event in its stored form: needs the audit key to forge."""
    content = _body(
        incident_id=incident_id,
        seq=seq,
        at=at.astimezone(UTC),  # the stored instant: the column keeps UTC, whatever offset the clock gave
        actor=actor,
        action=action,
        payload=_number_neutral(stored_form(payload)),
    )
    body = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hmac.new(key, f"{prev_hash}\n{body}".encode(), hashlib.sha256).hexdigest()


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
    key_id: str | None = None


@dataclass(frozen=True)
class ChainProblem:
    seq: int | None
    event_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"event #{self.seq} (row id {self.event_id})" if self.seq is not None else "timeline"
        return f"{where}: {self.problem}"


@dataclass(frozen=True)
class ChainReport:
    problems: list[ChainProblem]
    legacy: int  # unkeyed events accepted as written before the keyed chain (not counting any reported)
    keyed: int


def verify_chain(
    incident_id: int,
    events: list[ChainEvent],
    *,
    head_seq: int,
    head_hash: str,
    keys: Mapping[str, bytes] | None = None,
    legacy_limit: int | None = None,
) -> list[ChainProblem]:
    """Every problem found; an empty list means the timeline is intact (see `check_chain`)."""
    return check_chain(
        incident_id, events, head_seq=head_seq, head_hash=head_hash, keys=keys or {}, legacy_limit=legacy_limit
    ).problems


def check_chain(
    incident_id: int,
    events: list[ChainEvent],
    *,
    head_seq: int,
    head_hash: str,
    keys: Mapping[str, bytes],
    legacy_limit: int | None = None,
) -> ChainReport:
    """`events` must be in storage order (row id). `head_seq`/`head_hash` are the chain head kept on the
    incident row, which catches deletion of the newest events. `keys` maps key ids to audit keys.
    `legacy_limit`: the highest row id an unkeyed event may have (the database's legacy boundary; 0 when
    none may); None only where the database has never held a keyed event, so any event may be legacy."""
    problems: list[ChainProblem] = []
    previous_hash = GENESIS
    expected_seq = 1
    legacy = keyed = 0
    unverifiable: dict[str, list[ChainEvent]] = {}
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
        content = {
            "prev_hash": event.prev_hash,
            "incident_id": incident_id,
            "seq": event.seq,
            "at": event.at,
            "actor": event.actor,
            "action": event.action,
            "payload": event.payload,
        }
        edited = f"content was edited (action {event.action!r}, by {event.actor})"
        if event.key_id is None:
            reported = len(problems)
            if keyed:
                problems.append(
                    ChainProblem(
                        event.seq, event.id, "unkeyed event after keyed ones: written or rewritten without the key"
                    )
                )
            elif legacy_limit is not None and event.id > legacy_limit:
                problems.append(ChainProblem(event.seq, event.id, _above_boundary(legacy_limit)))
            if not legacy_hash_matches(event.hash, **content):
                problems.append(ChainProblem(event.seq, event.id, edited))
            if len(problems) == reported:
                legacy += 1
        else:
            keyed += 1
            key = keys.get(event.key_id)
            if key is None:
                unverifiable.setdefault(event.key_id, []).append(event)
            elif not hmac.compare_digest(keyed_event_hash(key, **content), event.hash):
                problems.append(ChainProblem(event.seq, event.id, f"{edited}: its keyed hash does not match"))
        previous_hash = event.hash
        expected_seq = event.seq + 1
    # One line per missing key, not one per event: a timeline of hundreds would otherwise bury everything else.
    for key_id, signed in unverifiable.items():
        first = signed[0]
        span = "" if len(signed) == 1 else f" and {len(signed) - 1} later event(s) up to #{signed[-1].seq}"
        problems.append(
            ChainProblem(
                first.seq,
                first.id,
                f"signed with audit key {key_id}, which is not available here{span} "
                "(TOCSIN_AUDIT_KEY / TOCSIN_AUDIT_RETIRED_KEYS): cannot be verified",
            )
        )
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
    return ChainReport(problems, legacy, keyed)


def _above_boundary(legacy_limit: int) -> str:
    return (
        f"unkeyed event above the legacy boundary (row id {legacy_limit}: every event after it was written with "
        "the key): written or rewritten without the key"
    )
