"""Console passwords and admins: argon2id hashes (argon2-cffi), checked log-ins, and a brake on guessing.

A clear password is never stored, logged or put on a timeline. Every log-in attempt is counted in the database
*before* its password is checked, in one short transaction that locks the counters it touches (an insert that
creates a missing counter, then SELECT ... FOR UPDATE: a row lock on PostgreSQL, the database's write lock on
SQLite), so parallel attempts queue on the counters and cannot check more passwords than the limits allow. Three
counters, each keyed by an HMAC of the server secret (no handle or address is stored):

- the handle from this address (`pair`): `web_login_attempts` attempts per `web_lockout_minutes` window; the
  attempts after that are refused without looking at the password until the address has been quiet for the window;
- the address, whatever the handle: four times as many (an office behind one proxy), then refused the same way;
- the handle from anywhere: beyond four times `web_login_attempts` failures in a window, every further attempt
  blocks the handle for a short, doubling back-off (2 s, 4 s, ... at most the window). An address from which the
  handle has logged in before is exempt, so an attack from elsewhere never locks its owner out at their usual
  address; any other address of the owner has the attacker's lock only on the attacker's own counters.

A success takes its own attempt back from the address and handle counters and clears the pair's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from tocsin.core.clocks import utcnow
from tocsin.core.config import get_settings
from tocsin.core.errors import Forbidden, InvalidInput
from tocsin.db.engine import session_scope
from tocsin.models import LoginFailure, Person, ThrottleScope
from tocsin.people.directory import check_handle, find_person, get_person
from tocsin.people.server_key import keyed_hash
from tocsin.people.web_sessions import revoke_sessions_of

log = logging.getLogger("tocsin.login")
MIN_LENGTH = 12
ADDRESS_FACTOR = 4
MAX_HANDLE_LENGTH = 64
_hasher = PasswordHasher()
# Verified when the handle is unknown or has no password, so a refusal takes as long either way.
_DUMMY_HASH = _hasher.hash("tocsin-no-such-person")
_TABLE = LoginFailure.__table__  # type: ignore[attr-defined]


class LoginRefused(Forbidden):
    """Wrong handle or password, or too many failures: one message for all, naming nothing that helps guessing."""

    def __init__(self, message: str, *, throttled: bool = False) -> None:
        super().__init__(message)
        self.throttled = throttled


class Verdict(StrEnum):
    allowed = "allowed"
    pair_locked = "too many attempts for this handle from this address"
    address_locked = "too many attempts from this address"
    handle_backoff = "the handle is backing off after failures from many addresses"


KNOWN_ADDRESS_FOR = timedelta(days=90)


@dataclass(frozen=True)
class Throttle:
    attempts: int = 5
    lockout: timedelta = timedelta(minutes=15)
    # How long a successful log-in keeps its address "known" (exempt from the handle's back-off); `tocsin purge`
    # removes the record after that.
    known_for: timedelta = KNOWN_ADDRESS_FOR

    @property
    def address_limit(self) -> int:
        return self.attempts * ADDRESS_FACTOR

    @property
    def handle_free(self) -> int:
        """Failures of one handle, from all addresses together, before its back-off starts."""
        return self.attempts * ADDRESS_FACTOR

    def backoff(self, over: int) -> timedelta:
        """2 s for the first failure over `handle_free`, doubling, at most the lock-out window."""
        return min(timedelta(seconds=2 ** min(over, 20)), self.lockout)


@dataclass(frozen=True)
class ThrottleKeys:
    pair: str
    address: str
    handle: str


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"the password has {len(password)} characters; at least {MIN_LENGTH} are needed")
    if password.strip() != password:
        raise InvalidInput("the password starts or ends with white space (a copy-and-paste slip?)")
    return _hasher.hash(password)


def set_password(session: Session, handle: str, password: str) -> Person:
    """A new password; every console session of the person ends (a stolen session does not outlive it)."""
    person = get_person(session, handle)
    person.password_hash = hash_password(password)
    session.add(person)
    ended = revoke_sessions_of(session, person.id or 0)
    log.info("console password set for %s (%d console session(s) ended)", person.handle, ended)
    return person


def clear_password(session: Session, handle: str) -> Person:
    person = get_person(session, handle)
    person.password_hash = None
    session.add(person)
    ended = revoke_sessions_of(session, person.id or 0)
    log.info("console password removed for %s (%d console session(s) ended)", person.handle, ended)
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


def throttle_keys(handle: str, client: str) -> ThrottleKeys:
    """The counters' keys: HMACs under the server secret, so the table holds neither handles nor addresses."""
    settings = get_settings()
    address = client[:200]
    return ThrottleKeys(
        pair=keyed_hash(settings, "login-throttle", ThrottleScope.pair.value, handle, address),
        address=keyed_hash(settings, "login-throttle", ThrottleScope.address.value, address),
        handle=keyed_hash(settings, "login-throttle", ThrottleScope.handle.value, handle),
    )


def _locked_counter(session: Session, key: str, scope: ThrottleScope) -> LoginFailure:
    """The counter, created if missing, locked until the transaction ends. The insert comes first: on SQLite it
    takes the database's write lock before anything is read, on PostgreSQL it waits for a concurrent insert of
    the same key, and FOR UPDATE then locks the row; so no two attempts read the same count."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.connection().execute(
        insert(_TABLE).values(key=key, scope=scope.value, failures=0).on_conflict_do_nothing(index_elements=["key"])
    )
    return session.exec(select(LoginFailure).where(LoginFailure.key == key).with_for_update()).one()


def _count(row: LoginFailure, now: datetime, throttle: Throttle) -> None:
    if row.last_failure_at is None or now - row.last_failure_at > throttle.lockout:
        row.failures = 0  # an old streak is forgotten
    row.failures += 1
    row.last_failure_at = now


def _reserve(keys: ThrottleKeys, throttle: Throttle, now: datetime) -> Verdict:
    """Count this attempt on its counters (always locked in the order pair, address, handle: no deadlock) and
    say whether its password may be checked. Committed before the password is checked."""
    with session_scope() as session:
        pair = _locked_counter(session, keys.pair, ThrottleScope.pair)
        address = _locked_counter(session, keys.address, ThrottleScope.address)
        _count(pair, now, throttle)
        _count(address, now, throttle)
        session.add_all([pair, address])
        if pair.failures > throttle.attempts:
            return Verdict.pair_locked
        if address.failures > throttle.address_limit:
            return Verdict.address_locked
        handle = _locked_counter(session, keys.handle, ThrottleScope.handle)
        known_good = pair.last_success_at is not None and now - pair.last_success_at <= throttle.known_for
        if handle.locked_until is not None and handle.locked_until > now and not known_good:
            return Verdict.handle_backoff
        _count(handle, now, throttle)
        over = handle.failures - throttle.handle_free
        if over > 0 and not known_good:  # the owner's own attempts do not lengthen the back-off
            handle.locked_until = now + throttle.backoff(over)
        session.add(handle)
        return Verdict.allowed


def _settle_success(keys: ThrottleKeys, now: datetime) -> None:
    """A success: the pair is cleared and remembered as good, the other two counters take the attempt back."""
    with session_scope() as session:
        pair = _locked_counter(session, keys.pair, ThrottleScope.pair)
        pair.failures = 0
        pair.last_success_at = now
        rows = [pair]
        for key, scope in ((keys.address, ThrottleScope.address), (keys.handle, ThrottleScope.handle)):
            row = _locked_counter(session, key, scope)
            row.failures = max(row.failures - 1, 0)
            rows.append(row)
        session.add_all(rows)


def verify_password(stored: str, password: str) -> bool:
    """The one place a password is checked against a hash (tests count the calls)."""
    try:
        return bool(_hasher.verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def _wanted(handle: str) -> str:
    try:
        return check_handle(handle)
    except InvalidInput:
        return handle.strip().lower()[:MAX_HANDLE_LENGTH]


def authenticate(session: Session, handle: str, password: str, *, client: str, throttle: Throttle) -> Person:
    """The person when the password is theirs; LoginRefused otherwise (the attempt is counted and committed before
    the password is checked, and logged without the password, and without the handle unless it is a person's).

    Call it before the caller's session writes anything: the counters commit in their own transaction."""
    wanted = _wanted(handle)
    keys = throttle_keys(wanted, client)
    now = utcnow()
    verdict = _reserve(keys, throttle, now)
    try:
        person = find_person(session, wanted) if wanted else None
    except InvalidInput:  # not a handle at all (maybe a password typed in the wrong field)
        person = None
    # Only a person's handle is logged: anything else may be a password typed into the handle field.
    shown = person.handle if person is not None else f"an unknown handle (#{keys.handle[:10]})"
    if verdict is not Verdict.allowed:
        log.warning("console log-in refused for %s from %s: %s", shown, client, verdict.value)
        raise LoginRefused("too many failed log-ins: wait a few minutes and try again", throttled=True)
    stored = person.password_hash if person is not None else None
    matched = verify_password(stored or _DUMMY_HASH, password) and stored is not None
    if not matched or person is None or stored is None:
        reason = "unknown person" if person is None else "no password set" if stored is None else "wrong password"
        log.warning("console log-in refused for %s from %s: %s", shown, client, reason)
        raise LoginRefused("wrong handle or password")
    _settle_success(keys, utcnow())
    if _hasher.check_needs_rehash(stored):
        person.password_hash = _hasher.hash(password)
        session.add(person)
    log.info("console log-in for %s from %s", person.handle, client)
    return person
