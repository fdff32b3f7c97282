"""The legacy boundary: which unkeyed audit events may really predate the keyed chain.

Events written before the keyed chain have no key id and can only be checked with the unkeyed SHA-256, which
anyone can recompute. Accepting every unkeyed event would let someone with write access to the database, but
not the key, rewrite an incident's whole timeline in that form (a downgrade). So the first process that signs
an event with the audit key first writes a marker into the database (`audit_legacy_boundary`, one row): the
highest audit event id that existed then (0 on a fresh database: there are no legacy events), HMAC'd with the
key, together with the hash of that newest legacy event. From then on:

- an unkeyed event above the boundary is tampering (whatever follows it: a later keyed event does not seal it);
- an unkeyed event after a keyed one in the same chain is tampering (`tocsin.audit.chain`);
- the marker missing while any keyed event exists is tampering, and so is a marker whose HMAC does not match
  (edited, copied from elsewhere, or the newest legacy event changed): then no unkeyed event is accepted.

The marker is written once and never re-written over keyed events: if it is gone, it stays gone, and
`verify` keeps saying so.

What remains: someone who rewrites every event of the database in the unkeyed form and deletes the marker
leaves a database that looks exactly like one from before the keyed chain. Only a checkpoint kept outside
the database catches that (it records each incident's unkeyed count and the boundary). A database never
touched by a keyed Tocsin has no marker either; its events are all accepted as legacy.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from tocsin.audit.chain import key_id_of
from tocsin.core.clocks import to_utc, utcnow
from tocsin.models import AuditEvent, AuditLegacyBoundary

MARKER_ID = 1  # one marker per database
PURPOSE = "tocsin audit legacy boundary"


@dataclass(frozen=True)
class LegacyBoundary:
    """`limit`: the highest row id an unkeyed event may have (None: the database has never held a keyed event,
    so every event may be legacy). `problem`: what is wrong with the marker (then `limit` is 0).
    `stored`: the boundary the marker row holds, as found (for comparing with a checkpoint)."""

    limit: int | None
    problem: str | None = None
    stored: int | None = None

    def admits(self, event_id: int) -> bool:
        """May the unkeyed event with this row id have been written before the keyed chain?"""
        return self.limit is None or event_id <= self.limit


def boundary_mac(key: bytes, boundary: int, newest_legacy_hash: str) -> str:
    text = f"{PURPOSE}\n{boundary}\n{newest_legacy_hash}"
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def keyed_event_exists(session: Session) -> bool:
    statement = select(AuditEvent.id).where(col(AuditEvent.key_id).is_not(None)).limit(1)
    return session.exec(statement).first() is not None


def _hash_of(session: Session, event_id: int) -> str:
    """The stored hash of event `event_id` ("" for 0, or if it is gone)."""
    if event_id == 0:
        return ""
    return session.exec(select(AuditEvent.hash).where(AuditEvent.id == event_id)).first() or ""


def seal_legacy_boundary(session: Session, key: bytes) -> None:
    """Before the first keyed event of this database: record (once, signed) the newest event that predates it.
    Done in the caller's transaction; concurrent first writers race harmlessly (the first marker stays)."""
    if session.get(AuditLegacyBoundary, MARKER_ID) is not None:
        return
    if keyed_event_exists(session):
        return  # the marker was removed after keyed events were written: verify reports it; never re-seal over it
    boundary = session.exec(select(func.max(AuditEvent.id))).one() or 0
    values = {
        "id": MARKER_ID,
        "boundary": boundary,
        "key_id": key_id_of(key),
        "at": to_utc(utcnow()),
        "mac": boundary_mac(key, boundary, _hash_of(session, boundary)),
    }
    connection = session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(dialect.insert(AuditLegacyBoundary).values(**values).on_conflict_do_nothing())


def stored_boundary(session: Session) -> int | None:
    """The boundary the marker row holds, unchecked (None: no marker), for a checkpoint to record."""
    marker = session.get(AuditLegacyBoundary, MARKER_ID)
    return None if marker is None else marker.boundary


def read_legacy_boundary(session: Session, keys: Mapping[str, bytes]) -> LegacyBoundary:
    """The boundary as the marker states it, checked with `keys` (key id -> key); never writes."""
    marker = session.get(AuditLegacyBoundary, MARKER_ID)
    if marker is None:
        if keyed_event_exists(session):
            return LegacyBoundary(
                0,
                "the legacy boundary marker (table audit_legacy_boundary) is missing but keyed events exist: it "
                "was deleted, so no unkeyed event can be trusted",
            )
        return LegacyBoundary(None)
    key = keys.get(marker.key_id)
    if key is None:
        return LegacyBoundary(
            0,
            f"the legacy boundary marker is signed with audit key {marker.key_id}, which is not available here: "
            "no unkeyed event can be trusted",
            marker.boundary,
        )
    expected = boundary_mac(key, marker.boundary, _hash_of(session, marker.boundary))
    if not hmac.compare_digest(expected, marker.mac):
        return LegacyBoundary(
            0,
            f"the legacy boundary marker (row id {marker.boundary}) does not carry the audit key's signature, or "
            "the newest event before the keyed chain was changed: forged or edited, so no unkeyed event can be "
            "trusted",
            marker.boundary,
        )
    return LegacyBoundary(marker.boundary, stored=marker.boundary)
