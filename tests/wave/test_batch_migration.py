"""Migration 0010 on SQLite and PostgreSQL: rows written before delivery batches keep their statuses, get
a batch per wave, and a downgrade writes the batches' acceptance back onto the rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text


@pytest.fixture
def engine(tocsin_db: str) -> Iterator[Engine]:
    if tocsin_db.startswith("sqlite:///"):
        Path(tocsin_db.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    made = create_engine(tocsin_db)
    yield made
    made.dispose()


def statuses(engine: Engine) -> dict[str, str]:
    from sqlalchemy import select

    from tocsin.wave.status import DELIVERIES, STATUS, WITH_BATCH

    with engine.connect() as connection:
        return dict(connection.execute(select(DELIVERIES.c.email, STATUS).select_from(WITH_BATCH)).all())


def test_rows_before_batches_keep_their_status_and_downgrade_keeps_what_batches_said(engine: Engine) -> None:
    from alembic import command

    from tocsin.db.migrate import alembic_config, upgrade

    upgrade(engine, "0009")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO incident (id, kind, title, severity, status, aware_at, declared_at, "
                                "updated_at, facts, locale, timezone, version, audit_seq, audit_head) VALUES (1, "
                                "'breach', 't', 'SEV2', 'declared', '2026-01-01 00:00:00', '2026-01-01 00:00:00', "
                                "'2026-01-01 00:00:00', '{}', 'en', 'UTC', 1, 0, '')"))  # fmt: skip
        for wave in (1, 2):
            connection.execute(text("INSERT INTO notice_wave (id, incident_id, draft_ids, content_sha256, channel, "
                                    "source_name, status, started_by, started_at, counts) VALUES "
                                    f"({wave}, 1, '[1]', '{{}}', 'sendgrid', 'r.csv', 'finished', 'a', "
                                    "'2026-01-01 00:00:00', '{}')"))  # fmt: skip
        for n, (wave, status) in enumerate([(1, "accepted"), (1, "delivered"), (2, "queued"), (2, "failed")]):
            connection.execute(text("INSERT INTO delivery (incident_id, wave_id, draft_id, email, substitutions, "
                                    "message_id, status, attempts, queued_at) VALUES "
                                    f"(1, {wave}, 1, 'p{n}@example.com', '{{}}', 'm{n}', '{status}', 1, "
                                    "'2026-01-01 00:00:00')"))  # fmt: skip
    upgrade(engine, "0010")
    before = {"p0@example.com": "accepted", "p1@example.com": "delivered", "p2@example.com": "queued",
              "p3@example.com": "failed"}  # fmt: skip
    assert statuses(engine) == before
    with engine.connect() as connection:
        batches = connection.execute(text("SELECT wave_id, accepted_at FROM delivery_batch ORDER BY id")).all()
        assert [(wave, accepted) for wave, accepted in batches] == [(1, None), (2, None)]
        by_wave = connection.execute(
            text("SELECT d.wave_id, b.wave_id FROM delivery d JOIN delivery_batch b ON b.id = d.batch_id")
        ).all()
        assert all(own == through_batch for own, through_batch in by_wave) and len(by_wave) == 4
    with engine.begin() as connection:  # a wave after the upgrade: its queued row accepted through its batch
        connection.execute(text("UPDATE delivery_batch SET accepted_at = '2026-01-02 00:00:00', provider_id = 'x' "
                                "WHERE wave_id = 2"))  # fmt: skip
    assert statuses(engine)["p2@example.com"] == "accepted"
    command.downgrade(alembic_config(engine), "0009")
    with engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT email, status FROM delivery")).all())
    assert rows == {**before, "p2@example.com": "accepted"}
