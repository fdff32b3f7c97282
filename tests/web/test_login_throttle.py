"""The log-in throttle (tocsin.people.passwords): attempts are counted atomically before any password is checked,
per (handle, address), per address and per handle; an attacker locks only their own address; counters hold keyed
hashes, never a handle or an address. On SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from threading import Lock
from typing import Any

import pytest
from sqlmodel import select
from tocsin.models import LoginFailure

from tests.web.conftest import Api
from tests.web.console_helpers import PASSWORD, set_password
from tocsin.core.clocks import FixedClock, use_clock, utcnow
from tocsin.core.config import get_settings
from tocsin.db.engine import session_scope
from tocsin.people import passwords
from tocsin.people.directory import upsert_person
from tocsin.people.passwords import LoginRefused, Throttle, authenticate
from tocsin.people.server_key import server_secret
from tocsin.people.web_sessions import open_session, revoke_session, session_person
from tocsin.retention.sign_ins import purge_sign_ins

WRONG = "not the password at all"
ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"


class Verifications:
    """Counts every password check (the argon2 verification), whatever thread makes it."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = Lock()
        self._real = passwords.verify_password

    def __call__(self, stored: str, password: str) -> bool:
        with self._lock:
            self.count += 1
        return self._real(stored, password)


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> Verifications:
    counter = Verifications()
    monkeypatch.setattr(passwords, "verify_password", counter)
    return counter


@pytest.fixture
def lena(tocsin_db: str) -> str:
    with session_scope() as session:
        upsert_person(session, "lena", email="lena@example.org")
    set_password("lena")
    return "lena"


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    fixed = FixedClock(utcnow())
    previous = use_clock(fixed)
    yield fixed
    use_clock(previous)


def attempt(handle: str, password: str, client: str) -> str:
    """One log-in through the real service, as a request would make it: "ok", "wrong" or "throttled"."""
    try:
        with session_scope() as session:
            authenticate(session, handle, password, client=client, throttle=Throttle())
    except LoginRefused as refused:
        return "throttled" if refused.throttled else "wrong"
    return "ok"


def test_forty_parallel_wrong_passwords_check_at_most_the_limit_and_lock_only_the_attacker(
    lena: str, verifications: Verifications
) -> None:
    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(lambda _: attempt(lena, WRONG, ATTACKER), range(40)))  # any error is raised here
    assert verifications.count <= Throttle().attempts
    assert outcomes.count("wrong") == verifications.count and outcomes.count("throttled") == 40 - verifications.count
    assert attempt(lena, PASSWORD, ATTACKER) == "throttled"  # the attacker's address is locked, even now
    assert attempt(lena, PASSWORD, OWNER) == "ok"  # the owner, elsewhere, logs in during the attack


def test_a_few_typos_then_the_right_password_go_through(lena: str, verifications: Verifications) -> None:
    for _ in range(Throttle().attempts - 1):
        assert attempt(lena, WRONG, OWNER) == "wrong"
    assert attempt(lena, PASSWORD, OWNER) == "ok"
    for _ in range(10):  # a success takes its attempt back: many log-ins from one office never lock it
        assert attempt(lena, PASSWORD, OWNER) == "ok"
    assert verifications.count == Throttle().attempts + 10


def test_guesses_from_many_addresses_back_the_handle_off_but_not_its_owners_usual_address(
    lena: str, clock: FixedClock
) -> None:
    assert attempt(lena, PASSWORD, OWNER) == "ok"  # the owner's usual address is now known good
    free = Throttle().handle_free
    for number in range(free + 1):  # a botnet: one guess per address
        assert attempt(lena, WRONG, f"192.0.2.{number}") == "wrong"
    assert attempt(lena, WRONG, "192.0.2.250") == "throttled"  # backing off: not even checked
    assert attempt(lena, PASSWORD, OWNER) == "ok"  # the owner is never locked out at their usual address
    clock.advance(timedelta(seconds=3))  # the back-off is short, and grows with every further failure
    assert attempt(lena, WRONG, "192.0.2.251") == "wrong"
    assert attempt(lena, PASSWORD, "192.0.2.252") == "throttled"
    clock.advance(Throttle().lockout)
    assert attempt(lena, PASSWORD, "192.0.2.252") == "ok"


def test_rotating_forwarded_for_headers_change_nothing(api: Api, lena: str, verifications: Verifications) -> None:
    statuses = []
    for number in range(30):
        headers = {"X-Forwarded-For": f"10.9.8.{number}", "X-Real-IP": f"10.9.7.{number}"}
        body = {"handle": lena, "password": WRONG}
        statuses.append(api.client.post("/api/login", json=body, headers=headers).status_code)
    limit = Throttle().attempts
    assert verifications.count == limit
    assert statuses == [401] * limit + [429] * (30 - limit)


def test_counters_hold_keyed_hashes_and_logs_name_only_known_handles(
    lena: str, caplog: pytest.LogCaptureFixture
) -> None:
    typed_password = "Hunter2-Secret-Passphrase"  # a password typed into the handle field
    caplog.set_level(logging.INFO, logger="tocsin.login")
    assert attempt(typed_password, WRONG, ATTACKER) == "wrong"
    assert attempt(lena, WRONG, ATTACKER) == "wrong"
    with session_scope() as session:
        rows = list(session.exec(select(LoginFailure)))
    stored: list[Any] = [(row.key, row.scope) for row in rows]
    assert len(rows) == 5 and all(re.fullmatch(r"[0-9a-f]{64}", row.key) for row in rows)  # 2 pairs, 1 address
    text = repr(stored)
    for secret in (typed_password.lower(), typed_password, ATTACKER, "lena"):
        assert secret not in text
    assert typed_password.lower() not in caplog.text and typed_password not in caplog.text
    assert "console log-in refused for lena" in caplog.text and "an unknown handle (#" in caplog.text


def test_concurrent_first_uses_of_the_server_secret_agree(tocsin_home: Path) -> None:
    """The secret keys every counter: threads racing to create it must all read the same, whole key (an empty
    read gave some attempts counters of their own)."""
    settings = get_settings()
    with ThreadPoolExecutor(max_workers=16) as pool:
        seen = set(pool.map(lambda _: server_secret(settings), range(64)))
    assert len(seen) == 1 and len(seen.pop()) >= 64
    assert [p.name for p in tocsin_home.iterdir() if "web-secret" in p.name] == ["web-secret"]  # no drafts left


def test_purge_removes_ended_sessions_and_stale_counters_and_a_known_address_is_forgotten(
    lena: str, clock: FixedClock
) -> None:
    def purge(dry_run: bool = False) -> tuple[int, int]:
        with session_scope() as session:
            done = purge_sign_ins(session, now=utcnow(), idle=timedelta(hours=2), throttle=Throttle(), dry_run=dry_run)
        return done.sessions, done.counters

    assert attempt(lena, PASSWORD, OWNER) == "ok"  # three counters: pair (known good), address, handle
    assert attempt(lena, WRONG, ATTACKER) == "wrong"  # three more, one of them the handle's
    with session_scope() as session:
        live = open_session(session, lena, lifetime=timedelta(hours=12))
        ended = open_session(session, lena, lifetime=timedelta(hours=12))
        revoke_session(session, ended)
    assert purge(dry_run=True) == (1, 0) and purge() == (1, 0)  # the window is open: every counter still counts
    with session_scope() as session:
        assert session_person(session, live, idle=timedelta(hours=2)) is not None

    clock.advance(Throttle().lockout + timedelta(seconds=1))
    assert purge() == (0, 4)  # the attacker's two, the handle's, and the owner's address (its count is gone)
    with session_scope() as session:
        assert len(session.exec(select(LoginFailure)).all()) == 1  # the owner's pair: known good for 90 days
    clock.advance(timedelta(hours=3))
    assert purge() == (1, 0)  # idle for more than 2 hours
    clock.advance(Throttle().known_for)
    assert purge() == (0, 1)
    with session_scope() as session:
        assert session.exec(select(LoginFailure)).all() == []
