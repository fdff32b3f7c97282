"""Finding 1: an untouched timeline verifies, whatever the payload holds and whatever offset the clock carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum

from tocsin.models import Incident

from tests.helpers import ok
from tocsin.audit.chain import stored_form
from tocsin.audit.timeline import append_event, verify_incident
from tocsin.core.clocks import FixedClock, use_clock
from tocsin.db.engine import session_scope


class Colour(Enum):
    red = "red"


PAYLOAD = {
    "at": datetime(2027, 3, 10, 23, 30, tzinfo=timezone(timedelta(hours=1))),
    "amount": Decimal("12.50"),
    "colour": Colour.red,
    "pair": (1, 2.0),
    "nested": {"when": [datetime(2027, 1, 1, tzinfo=UTC)], 3: {"big": 1e20}},
}


def test_stored_form_is_plain_json() -> None:
    assert stored_form(PAYLOAD) == {
        "at": "2027-03-10T23:30:00+01:00",
        "amount": "12.50",
        "colour": "red",
        "pair": [1, 2.0],
        "nested": {"when": ["2027-01-01T00:00:00+00:00"], "3": {"big": 1e20}},
    }


def test_payloads_and_clock_offsets_hash_the_same_when_stored(tocsin_db: str) -> None:
    incident_id = ok("declare", "--title", "Payloads", "--json").json()["id"]
    clock = FixedClock(datetime(2027, 3, 10, 22, 30, tzinfo=UTC))
    previous = use_clock(clock)
    try:
        clock.instant = datetime(2027, 3, 11, 0, 30, tzinfo=timezone(timedelta(hours=1)))  # as a drill sets it
        with session_scope() as session:
            incident = session.get(Incident, incident_id)
            assert incident is not None
            append_event(session, incident, actor="alice", action="clock.event", payload=PAYLOAD)
    finally:
        use_clock(previous)
    with session_scope() as session:
        assert verify_incident(session, incident_id) == []
    assert "timeline intact" in ok("audit", "verify", "all").stdout
