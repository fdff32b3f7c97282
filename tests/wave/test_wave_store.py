"""Delivery rows as the wave writes them (one COPY or one INSERT per chunk) read back exactly as given, on
SQLite and PostgreSQL, whatever characters the values hold."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.wave.conftest import declare_incident
from tocsin.wave.store import copy_text

QUEUED_AT = datetime(2026, 11, 23, 4, 5, 6, 789012, tzinfo=UTC)
TRICKY = [
    (1, "a@example.com", "Ann Tab\tName", None, {"-name-": 'Back\\slash "quoted"'}, "m-1"),
    (1, "b@example.com", None, "FR", {"-name-": "Line\nbreak\rand é ü 漢字"}, "m-2"),
    (2, "c\\d@example.com", "Plain", "US-CA", {}, "m-3"),
    (1, "n@example.com", "\\N", "\\N", {"-n-": "\\N"}, "m-4"),  # the text of COPY's NULL, as a value
]


def written(rows: list[tuple[Any, ...]], *, row_by_row: bool, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    from sqlalchemy import select
    from tocsin.models import NoticeWave

    import tocsin.wave.store as store
    from tocsin.db.engine import session_scope
    from tocsin.wave.status import DELIVERIES

    shift = 100 if row_by_row else 0
    if row_by_row:
        monkeypatch.setattr(store, "copy_text", lambda rows, shared: None)
    incident = declare_incident()
    with session_scope() as session:
        wave = NoticeWave(incident_id=incident, channel="sendgrid", started_by="carl", started_at=QUEUED_AT)
        session.add(wave)
        session.flush()
        batch = store.new_batch(session, wave.id or 0)
        shifted = [(draft + shift, *rest) for draft, *rest in rows]  # draft ids are unique across incidents
        store.insert_queued(session, incident, wave.id or 0, batch, shifted, QUEUED_AT)
    columns = [DELIVERIES.c[name] for name in store.QUEUED_COLUMNS]
    with session_scope() as session:
        found = session.execute(
            select(*columns, DELIVERIES.c.status, DELIVERIES.c.queued_at).where(DELIVERIES.c.incident_id == incident)
        )
        return sorted((row[0] - shift, *row[1:]) for row in found)


def test_a_chunk_written_at_once_reads_back_as_written_row_by_row(
    wave_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at_once = written(TRICKY, row_by_row=False, monkeypatch=monkeypatch)
    expected = sorted((*row, "queued", QUEUED_AT) for row in TRICKY)
    assert at_once == expected
    assert written(TRICKY, row_by_row=True, monkeypatch=monkeypatch) == expected


def test_copy_text_escapes_what_copy_needs_and_gives_up_on_its_own_marks() -> None:
    text = copy_text(TRICKY[:2], (7, "queued"))
    assert text == (
        '1\ta@example.com\tAnn Tab\\tName\t\\N\t{"-name-":"Back\\\\\\\\slash \\\\"quoted\\\\""}\tm-1\t7\tqueued\n'
        '1\tb@example.com\t\\N\tFR\t{"-name-":"Line\\\\nbreak\\\\rand é ü 漢字"}\tm-2\t7\tqueued\n'
    )
    for mark in ("\x00", "\x01", "\x02"):
        assert copy_text([(1, "x@example.com", f"A{mark}B", None, {}, "m")], (7,)) is None
