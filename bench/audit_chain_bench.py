"""Cost of the keyed audit chain: hashing one appended event (HMAC-SHA256 over the stored form) against the old
unkeyed SHA-256, and verifying a chain, per event. Median of several runs; prints the ratio."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

from tocsin.audit.chain import GENESIS, ChainEvent, check_chain, event_hash, key_id_of, keyed_event_hash

EVENTS, RUNS = 2000, 7
KEY = b"k" * 64
START = datetime(2026, 12, 5, tzinfo=UTC)
PAYLOAD = {"draft": "D-3", "sha256": "a" * 64, "comment": None, "approvals": "1 of 2", "via": "cli", "n": 1.0}


def _append(keyed: bool) -> float:
    previous = GENESIS
    began = time.perf_counter()
    for seq in range(1, EVENTS + 1):
        content = dict(
            prev_hash=previous,
            incident_id=1,
            seq=seq,
            at=START + timedelta(seconds=seq),
            actor="alice",
            action="draft.approved",
            payload=PAYLOAD,
        )
        previous = keyed_event_hash(KEY, **content) if keyed else event_hash(**content)
    return (time.perf_counter() - began) / EVENTS


def _verify() -> float:
    events, previous = [], GENESIS
    for seq in range(1, EVENTS + 1):
        at = START + timedelta(seconds=seq)
        digest = keyed_event_hash(
            KEY, prev_hash=previous, incident_id=1, seq=seq, at=at, actor="a", action="x", payload=PAYLOAD
        )
        events.append(ChainEvent(seq, seq, at, "a", "x", PAYLOAD, previous, digest, key_id_of(KEY)))
        previous = digest
    began = time.perf_counter()
    report = check_chain(1, events, head_seq=EVENTS, head_hash=previous, keys={key_id_of(KEY): KEY})
    assert not report.problems
    return (time.perf_counter() - began) / EVENTS


def main() -> None:
    legacy = statistics.median(_append(False) for _ in range(RUNS))
    keyed = statistics.median(_append(True) for _ in range(RUNS))
    verify = statistics.median(_verify() for _ in range(RUNS))
    print(f"append hash, unkeyed SHA-256: {legacy * 1e6:.1f} µs/event")
    print(f"append hash, keyed HMAC     : {keyed * 1e6:.1f} µs/event (x{keyed / legacy:.2f})")
    print(f"verify keyed chain          : {verify * 1e6:.1f} µs/event")


if __name__ == "__main__":
    main()
