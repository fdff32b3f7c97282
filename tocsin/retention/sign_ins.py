"""Removing the web console's sign-in records once they serve no purpose: sessions that ended (revoked, past
their absolute end, or idle too long) and log-in counters whose window has passed. A counter row is keyed by an
HMAC of a handle and a client address, which still links the two for whoever holds the server secret; a remembered
successful log-in ("known address") is kept for `Throttle.known_for`, then removed too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from tocsin.models.login_failure import LoginFailure
from tocsin.models.web_session import WebSession
from tocsin.people.passwords import Throttle


@dataclass(frozen=True)
class SignInPurge:
    sessions: int
    counters: int


def _ended_sessions(now: datetime, idle: timedelta) -> ColumnElement[bool]:
    return or_(
        col(WebSession.revoked_at).is_not(None),
        col(WebSession.expires_at) <= now,
        col(WebSession.last_seen_at) <= now - idle,
    )


def _stale_counters(now: datetime, throttle: Throttle) -> ColumnElement[bool]:
    window = now - throttle.lockout
    return and_(
        or_(col(LoginFailure.last_failure_at).is_(None), col(LoginFailure.last_failure_at) <= window),
        or_(col(LoginFailure.locked_until).is_(None), col(LoginFailure.locked_until) <= now),
        or_(col(LoginFailure.last_success_at).is_(None), col(LoginFailure.last_success_at) <= now - throttle.known_for),
    )


def purge_sign_ins(
    session: Session, *, now: datetime, idle: timedelta, throttle: Throttle, dry_run: bool = False
) -> SignInPurge:
    """Delete (or, with `dry_run`, count) the sessions that ended and the counters that no longer count."""
    sessions, counters = _ended_sessions(now, idle), _stale_counters(now, throttle)
    if dry_run:
        return SignInPurge(
            sessions=session.execute(select(func.count()).select_from(WebSession).where(sessions)).scalar_one(),
            counters=session.execute(select(func.count()).select_from(LoginFailure).where(counters)).scalar_one(),
        )
    removed_sessions = session.execute(delete(WebSession).where(sessions)).rowcount  # type: ignore[attr-defined]
    removed_counters = session.execute(delete(LoginFailure).where(counters)).rowcount  # type: ignore[attr-defined]
    return SignInPurge(sessions=int(removed_sessions or 0), counters=int(removed_counters or 0))
