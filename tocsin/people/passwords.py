"""Console passwords and admins: argon2id hashes (argon2-cffi), checked log-ins, and a brake on guessing.

A clear password is never stored, logged or put on a timeline. A failed log-in counts against the handle and
against the client address; after `web_login_attempts` failures within the lock-out window (four times as many
for an address), that handle (or address) is refused without looking at the password until the window has
passed. A success clears the handle's count.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from tocsin.core.clocks import utcnow
from tocsin.core.errors import Forbidden, InvalidInput
from tocsin.models import LoginFailure, Person
from tocsin.people.directory import check_handle, find_person, get_person

log = logging.getLogger("tocsin.login")
MIN_LENGTH = 12
ADDRESS_FACTOR = 4
_hasher = PasswordHasher()
# Verified when the handle is unknown or has no password, so a refusal takes as long either way.
_DUMMY_HASH = _hasher.hash("tocsin-no-such-person")


class LoginRefused(Forbidden):
    """Wrong handle or password, or too many failures: one message for all, naming nothing that helps guessing."""


@dataclass(frozen=True)
class Throttle:
    attempts: int = 5
    lockout: timedelta = timedelta(minutes=15)


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"the password has {len(password)} characters; at least {MIN_LENGTH} are needed")
    if password.strip() != password:
        raise InvalidInput("the password starts or ends with white space (a copy-and-paste slip?)")
    return _hasher.hash(password)


def set_password(session: Session, handle: str, password: str) -> Person:
    person = get_person(session, handle)
    person.password_hash = hash_password(password)
    session.add(person)
    log.info("console password set for %s", person.handle)
    return person


def clear_password(session: Session, handle: str) -> Person:
    person = get_person(session, handle)
    person.password_hash = None
    session.add(person)
    log.info("console password removed for %s", person.handle)
    return person


def set_admin(session: Session, handle: str, admin: bool) -> Person:
    person = get_person(session, handle)
    person.is_admin = admin
    session.add(person)
    log.info("admin %s for %s", "granted" if admin else "revoked", person.handle)
    return person


def is_admin(session: Session, handle: str) -> bool:
    person = find_person(session, handle)
    return bool(person is not None and person.is_admin)


def _failure(session: Session, key: str) -> LoginFailure | None:
    return session.exec(select(LoginFailure).where(LoginFailure.key == key)).first()


def _locked(session: Session, keys: list[str]) -> bool:
    now = utcnow()
    rows = [_failure(session, key) for key in keys]
    return any(row is not None and row.locked_until is not None and row.locked_until > now for row in rows)


def _count_failure(session: Session, key: str, throttle: Throttle) -> None:
    now = utcnow()
    row = _failure(session, key)
    if row is None:
        row = LoginFailure(key=key, failures=0, last_failure_at=now)
    elif now - row.last_failure_at > throttle.lockout:
        row.failures = 0  # an old streak of failures is forgotten
    row.failures += 1
    row.last_failure_at = now
    # One address may be a whole office behind a proxy: it gets more room than one handle.
    limit = throttle.attempts * (ADDRESS_FACTOR if key.startswith("ip:") else 1)
    if row.failures >= limit:
        row.locked_until = now + throttle.lockout
    session.add(row)


def _client_key(client: str) -> str:
    return f"ip:{client[:150]}"


def authenticate(session: Session, handle: str, password: str, *, client: str, throttle: Throttle) -> Person:
    """The person when the password is theirs; LoginRefused otherwise (the failure is counted, committed and
    logged, without the password)."""
    try:
        wanted = check_handle(handle)
    except InvalidInput:
        wanted = handle.strip().lower()[:64]
    keys = [f"handle:{wanted}", _client_key(client)]
    if _locked(session, keys):
        log.warning("console log-in refused for %r from %s: locked after repeated failures", wanted, client)
        raise LoginRefused("too many failed log-ins: wait a few minutes and try again")
    person = find_person(session, wanted) if wanted else None
    stored = person.password_hash if person is not None else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
        matched = stored is not None
    except (VerificationError, InvalidHashError):
        matched = False
    if not matched or person is None:
        reason = "unknown person" if person is None else "no password set" if stored is None else "wrong password"
        log.warning("console log-in refused for %r from %s: %s", wanted, client, reason)
        for key in keys:
            _count_failure(session, key, throttle)
        try:
            session.commit()  # the count sticks although the caller's transaction ends in an error
        except IntegrityError:  # a concurrent failure created the same counter first: one count is lost
            session.rollback()
        raise LoginRefused("wrong handle or password")
    if _hasher.check_needs_rehash(stored or ""):
        person.password_hash = _hasher.hash(password)
        session.add(person)
    row = _failure(session, keys[0])
    if row is not None:
        session.delete(row)
    log.info("console log-in for %s from %s", person.handle, client)
    return person
