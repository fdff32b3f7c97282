"""The whole policy matrix: every action, through every door that offers it, as every member of the cast
(commander, legal, comms, it, dpo, observer, no role, admin, the draft's author), on SQLite and PostgreSQL.

Each attempt runs in a fresh scene (`world.make_world`) and must end as the policy table says (`oracle.may`):
allowed → the door reports success and nothing was refused; refused → the door answers 403 / exit 4 and, for an
action on an incident, the refusal `<action>_refused` by that person is on the incident's timeline. Positive
cases are as many as negative ones, so a door that refuses everything fails here as surely as one that lets
everything through.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from tocsin.models import AuditEvent

from tests.conftest import POSTGRES_URL, _postgres_problem
from tests.helpers import run_cli
from tests.policy import doors
from tests.policy.cases import CASES, Case
from tests.policy.oracle import MEMBERS, may
from tests.policy.world import CAST, ensure_cast, make_world
from tocsin.db.engine import session_scope

ALLOWED, REFUSED = "allowed", "refused"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def matrix_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database for the module (a fresh scene per attempt keeps attempts apart)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'tocsin.db'}"
        return
    problem = _postgres_problem()
    if problem is not None:
        if __import__("os").environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    import psycopg

    schema = f"m_{uuid.uuid4().hex[:12]}"
    plain = POSTGRES_URL.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        from tocsin.db.engine import dispose_engines

        dispose_engines()
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def matrix_db(matrix_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from tocsin.core.config import get_settings

    monkeypatch.setenv("TOCSIN_DATABASE_URL", matrix_url)
    monkeypatch.setenv("TOCSIN_PLAYBOOK_EXECUTOR", "inline")
    monkeypatch.setenv("TOCSIN_SLACK_SIGNING_SECRET", doors.SLACK_SECRET)
    monkeypatch.setenv("TOCSIN_AUDIT_KEY", AUDIT_KEY)  # every writer of one database shares its audit key
    get_settings.cache_clear()
    if matrix_url not in _CAST_READY:  # argon2 hashes cost ~0.3 s each: once per database
        ensure_cast(logins=True)
        _CAST_READY.add(matrix_url)
    return matrix_url


_CAST_READY: set[str] = set()
AUDIT_KEY = "the policy matrix's audit key, shared by the tests and the server"


def refusals(incident_id: int, handle: str, action: str) -> int:
    with session_scope() as session:
        rows = session.exec(
            select(AuditEvent.id).where(
                AuditEvent.incident_id == incident_id,
                AuditEvent.actor == handle,
                AuditEvent.action == f"{action}_refused",
            )
        )
        return len(list(rows))


def check(case: Case, door: doors.Door, tmp_path: Path) -> list[str]:
    """Every member's attempt against the table; returns the mismatches (empty: the door follows the policy).

    Those the table refuses share one scene (a refusal changes nothing but the timeline); each one it allows gets
    a fresh scene, since their attempt changes it."""
    problems = []
    refused = [m for m in MEMBERS if not may(case.action, m)]
    shared = make_world(case.needs) if refused else None
    for member in refused + [m for m in MEMBERS if may(case.action, m)]:
        world = shared if member in refused and shared is not None else make_world(case.needs)
        handle = CAST[member]
        outcome, detail = door.attempt(case, world, handle, tmp_path)
        expected = ALLOWED if may(case.action, member) else REFUSED
        if outcome != expected:
            problems.append(f"{member} ({handle}): expected {expected}, got {outcome}: {detail[:300]}")
            continue
        if case.incident:
            recorded = refusals(world.incident_id, handle, case.action.value)
            if expected == REFUSED and recorded != 1:
                problems.append(f"{member} ({handle}): refused but {recorded} refusal events on the timeline")
            if expected == ALLOWED and recorded:
                problems.append(f"{member} ({handle}): allowed, yet a refusal is on the timeline")
    return problems


def _params(door_name: str) -> list[Any]:
    return [pytest.param(case, id=case.action.value) for case in CASES if doors.offers(door_name, case)]


@pytest.mark.parametrize("case", _params("cli"))
def test_local_cli(case: Case, matrix_db: str, tmp_path: Path) -> None:
    assert check(case, doors.LocalCli(run_cli), tmp_path) == []


@pytest.mark.parametrize("case", _params("api"))
def test_api(case: Case, matrix_db: str, tmp_path: Path, api_door: doors.Door) -> None:
    assert check(case, api_door, tmp_path) == []


@pytest.fixture
def api_door(matrix_db: str) -> Iterator[doors.Door]:
    with doors.ApiDoor.open() as door:
        yield door


@pytest.mark.parametrize("case", _params("console"))
def test_console(case: Case, matrix_db: str, tmp_path: Path) -> None:
    with doors.ConsoleDoor.open() as door:
        assert check(case, door, tmp_path) == []


@pytest.mark.parametrize("case", _params("slack"))
def test_slack(case: Case, matrix_db: str, tmp_path: Path) -> None:
    with doors.SlackDoor.open() as door:
        assert check(case, door, tmp_path) == []


@pytest.fixture(scope="module")
def server_url(matrix_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `tocsin serve` on the matrix's database, for the CLI in client mode."""
    import os
    import subprocess
    import sys
    import time

    from tests.cli.conftest import _healthy, free_port
    from tests.helpers import ROOT

    home = tmp_path_factory.mktemp("served")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    env.update(
        TOCSIN_HOME=str(home), TOCSIN_DATABASE_URL=matrix_url, TOCSIN_LOGIN_FILE=str(home / "no-login.json"),
        TOCSIN_PLAYBOOK_EXECUTOR="inline", TOCSIN_TIMEZONE="UTC", TOCSIN_AUDIT_KEY=AUDIT_KEY,
    )  # fmt: skip
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = home / "serve.log"
    with log.open("ab") as output:
        command = [sys.executable, "-m", "tocsin", "serve", "--host", "127.0.0.1", "--port", str(port)]
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"tocsin serve did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.parametrize("case", _params("client"))
def test_cli_as_a_client(case: Case, matrix_db: str, server_url: str, tmp_path: Path) -> None:
    assert check(case, doors.ClientCli(run_cli, server_url), tmp_path) == []
