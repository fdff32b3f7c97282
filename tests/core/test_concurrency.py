"""Two writers on the same incident never silently overwrite each other (two real connections)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session
from tocsin.models import IncidentKind, Severity

from tocsin.core.errors import Conflict
from tocsin.db.engine import current_engine, session_scope
from tocsin.incidents.service import Declaration, assign, change_status, declare, get_incident

PEOPLE = ("alice", "bob", "carol", "dana", *(f"p{i}" for i in range(8)))


def _declare() -> int:
    from tocsin.people.directory import upsert_person

    with session_scope() as session:
        for handle in PEOPLE:  # roles go to people in the directory only
            upsert_person(session, handle)
    with session_scope() as session:
        incident = declare(
            session,
            Declaration(
                kind=IncidentKind.breach,
                title="Shared drive leak",
                severity=Severity.SEV2,
                aware_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
                commander="alice",
                facts={},
            ),
            actor="alice",
        )
        assert incident.id is not None
        return incident.id


def test_second_writer_gets_a_conflict_and_writes_nothing(tocsin_db: str) -> None:
    incident_id = _declare()
    engine = current_engine()
    with Session(engine) as first, Session(engine) as second:
        seen_by_first = get_incident(first, incident_id)
        seen_by_second = get_incident(second, incident_id)  # both hold version N
        assert seen_by_first.version == seen_by_second.version
        change_status(first, incident_id, "investigating", actor="alice")
        first.commit()
        with pytest.raises((StaleDataError, IntegrityError)):
            assign(second, incident_id, "legal", "bob", actor="carol")
            second.commit()
        second.rollback()

    with session_scope() as session:
        incident = get_incident(session, incident_id)
        assert incident.status == "investigating"
        from tocsin.audit.timeline import timeline, verify_incident

        assert [e.action for e in timeline(session, incident_id)][-1] == "incident.status_changed"
        assert verify_incident(session, incident_id) == []


def test_session_scope_reports_the_conflict_clearly(tocsin_db: str) -> None:
    """Two people act on what they both saw; the slower one is told, and nothing of theirs is written."""
    incident_id = _declare()
    both_have_read = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def writer(role: str, person: str) -> None:
        try:
            with session_scope() as session:
                held = get_incident(session, incident_id)
                both_have_read.wait(timeout=10)
                assign(session, incident_id, role, person, actor=person)
                assert held.version >= 1
            outcomes[person] = "ok"
        except Conflict as error:
            outcomes[person] = f"conflict: {error}"

    threads = [threading.Thread(target=writer, args=args) for args in (("legal", "bob"), ("comms", "dana"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(o.split(":")[0] for o in outcomes.values()) == ["conflict", "ok"], outcomes
    loser = next(p for p, o in outcomes.items() if o.startswith("conflict"))
    assert "changed by someone else" in outcomes[loser]
    with session_scope() as session:
        from tocsin.incidents.service import roles_of

        holders = {p.handle for _role, p in roles_of(session, incident_id)}
    assert loser not in holders


def test_many_concurrent_writers_lose_nothing_silently(tocsin_db: str) -> None:
    """Eight threads race to add roles: every write either lands with its audit event or is refused."""
    incident_id = _declare()
    landed: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()

    def writer(person: str) -> None:
        for _attempt in range(20):
            try:
                with session_scope() as session:
                    assign(session, incident_id, "observer", person, actor=person)
                with lock:
                    landed.append(person)
                return
            except Conflict:
                with lock:
                    refused.append(person)

    people = [f"p{i}" for i in range(8)]
    threads = [threading.Thread(target=writer, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    from tocsin.audit.timeline import timeline, verify_incident
    from tocsin.incidents.service import roles_of

    with session_scope() as session:
        observers = sorted(p.handle for role, p in roles_of(session, incident_id) if role == "observer")
        events = [e for e in timeline(session, incident_id) if e.action == "role.assigned"]
        assert verify_incident(session, incident_id) == []
    assert observers == sorted(landed)
    assert len(events) == 1 + len(landed)  # the commander, then each landed write
    assert sorted(landed) == people  # retries eventually land everyone
