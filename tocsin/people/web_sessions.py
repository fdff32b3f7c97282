"""Console log-in sessions on the server (service level, no web): open one for a person who just logged in, find
the person behind a presented session id, revoke one (log-out) or all of a person's (a new or removed password).

The id is random (256 bits), handed to the browser once, and stored only as its SHA-256: a copy of the database
does not hold live sessions. A session is valid while it is not revoked, younger than its absolute end, and was
seen within the idle limit.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from tocsin.core.clocks import utcnow
from tocsin.models import Person, WebSession
from tocsin.people.directory import get_person

# Seen-at is written at most this often, so a busy console does not write on every page.
TOUCH_EVERY = timedelta(seconds=60)


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def open_session(session: Session, handle: str, *, lifetime: timedelta) -> str:
    """A new session for `handle`; returns its id (the only time it exists outside the browser)."""
    person = get_person(session, handle)
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            id_sha256=session_hash(session_id),
            person_id=person.id or 0,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return session_id


def session_person(session: Session, session_id: str, *, idle: timedelta) -> Person | None:
    """The person a live session belongs to (its seen-at moved on); None when it is unknown, revoked, past its
    absolute end or idle too long, or its person has no password any more."""
    row = session.exec(
        select(WebSession, Person)
        .join(Person, col(Person.id) == WebSession.person_id)
        .where(WebSession.id_sha256 == session_hash(session_id))
    ).first()
    if row is None:
        return None
    record, person = row
    now = utcnow()
    if record.revoked_at is not None or record.expires_at <= now or record.last_seen_at + idle <= now:
        return None
    if person.password_hash is None:
        return None
    if now - record.last_seen_at >= TOUCH_EVERY:
        record.last_seen_at = now
        session.add(record)
    return person


def revoke_session(session: Session, session_id: str) -> bool:
    """End one session (log-out); False when it was unknown or already ended."""
    result = session.connection().execute(
        update(WebSession)
        .where(col(WebSession.id_sha256) == session_hash(session_id), col(WebSession.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)


def revoke_sessions_of(session: Session, person_id: int) -> int:
    """End every live session of a person (their password changed or was removed); how many ended."""
    result = session.connection().execute(
        update(WebSession)
        .where(col(WebSession.person_id) == person_id, col(WebSession.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)
