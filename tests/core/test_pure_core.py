"""Pure pieces of the foundation: the lifecycle table, the hash chain and time handling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tocsin.models import IncidentStatus

from tocsin.audit.chain import GENESIS, ChainEvent, event_hash, verify_chain
from tocsin.core.clocks import (
    FixedClock,
    SimulatedClock,
    humanize_delta,
    iso_utc,
    parse_instant,
    use_clock,
    utcnow,
)
from tocsin.core.errors import InvalidInput
from tocsin.incidents.lifecycle import TRANSITIONS, check_transition


def test_every_status_reaches_closed() -> None:
    for start in IncidentStatus:
        seen, frontier = {start}, [start]
        while frontier:
            for nxt in TRANSITIONS[frontier.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        assert IncidentStatus.closed in seen, start


def test_illegal_transition_names_the_options() -> None:
    with pytest.raises(InvalidInput, match="next status can be: monitoring"):
        check_transition("notifying", IncidentStatus.closed)


def _chain(n: int) -> list[ChainEvent]:
    events, previous = [], GENESIS
    at = datetime(2027, 1, 1, tzinfo=UTC)
    for seq in range(1, n + 1):
        digest = event_hash(
            prev_hash=previous, incident_id=7, seq=seq, at=at, actor="a", action="x", payload={"n": seq}
        )
        events.append(ChainEvent(seq, seq, at, "a", "x", {"n": seq}, previous, digest))
        previous = digest
    return events


def test_chain_verifies_and_detects_a_forged_rehash() -> None:
    events = _chain(4)
    assert verify_chain(7, events, head_seq=4, head_hash=events[-1].hash) == []
    # An attacker edits event 2 and recomputes its hash: event 3 no longer links to it.
    forged_hash = event_hash(
        prev_hash=events[0].hash,
        incident_id=7,
        seq=2,
        at=events[1].at,
        actor="m",
        action="x",
        payload={"n": 2},
    )
    events[1] = ChainEvent(2, 2, events[1].at, "m", "x", {"n": 2}, events[0].hash, forged_hash)
    problems = [str(p) for p in verify_chain(7, events, head_seq=4, head_hash=events[-1].hash)]
    assert problems == ["event #3 (row id 3): does not link to the event before it (deleted or reordered)"]


def test_the_same_content_in_another_incident_does_not_verify() -> None:
    events = _chain(2)
    assert verify_chain(8, events, head_seq=2, head_hash=events[-1].hash)


def test_instants_must_carry_an_offset() -> None:
    assert iso_utc(parse_instant("2027-03-12T23:30:00-05:00")) == "2027-03-13T04:30:00Z"
    assert iso_utc(parse_instant("2027-03-12T23:30:00Z")) == "2027-03-12T23:30:00Z"
    with pytest.raises(InvalidInput, match="no UTC offset"):
        parse_instant("2027-03-12T23:30:00")


def test_swappable_clocks() -> None:
    fixed = FixedClock(datetime(2027, 1, 1, 12, tzinfo=UTC))
    previous = use_clock(fixed)
    try:
        assert utcnow() == datetime(2027, 1, 1, 12, tzinfo=UTC)
        fixed.advance(timedelta(hours=72))
        assert utcnow() == datetime(2027, 1, 4, 12, tzinfo=UTC)
    finally:
        use_clock(previous)
    simulated = SimulatedClock(start=datetime(2027, 1, 1, tzinfo=UTC), speed=3600)
    assert simulated.now() >= datetime(2027, 1, 1, tzinfo=UTC)


def test_humanized_deltas() -> None:
    assert humanize_delta(timedelta(days=2, hours=3, minutes=15)) == "2d 03h 15m"
    assert humanize_delta(timedelta(hours=-5, minutes=-2)) == "-5h 02m"
