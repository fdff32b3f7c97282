"""A staffed breach incident on a fixed clock, for playbook tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from tocsin.models import IncidentKind, Severity

from tocsin.core.clocks import FixedClock, use_clock
from tocsin.db.engine import session_scope
from tocsin.incidents.service import Declaration, assign, declare
from tocsin.people.directory import upsert_person

START = datetime(2027, 3, 9, 7, 30, tzinfo=UTC)
FACTS = {
    "entity": {"name": "Boutique SAS", "roles": ["controller"], "main_establishment": "FR", "timezone": "Europe/Paris"},
    "facts": {"personal_data_breach": True, "likely_high_risk_to_individuals": True, "data_subjects": {"FR": 900}},
    "events": {"aware_personal_data_breach": "2027-03-09T07:00:00Z"},
}
TEAM = [
    ("alice", "commander"),
    ("bob", "legal"),
    ("bea", "legal"),
    ("carol", "it"),
    ("cem", "it"),
    ("dana", "comms"),
    ("erin", "dpo"),
]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FixedClock]:
    monkeypatch.setenv("TOCSIN_PLAYBOOK_EXECUTOR", "inline")
    fixed = FixedClock(START)
    previous = use_clock(fixed)
    yield fixed
    use_clock(previous)


@pytest.fixture
def incident(tocsin_db: str, clock: FixedClock) -> int:
    with session_scope() as session:
        for handle, _role in TEAM:
            upsert_person(session, handle, name=handle.title(), email=f"{handle}@shop.example")
        record = declare(
            session,
            Declaration(
                kind=IncidentKind.breach,
                title="Backups exposed",
                severity=Severity.SEV1,
                aware_at=datetime(2027, 3, 9, 7, tzinfo=UTC),
                commander="alice",
                facts=FACTS,
                timezone="Europe/Paris",
            ),
            actor="alice",
        )
        for handle, role in TEAM[1:]:
            assign(session, record.id or 0, role, handle, actor="alice")
        return record.id or 0
