"""What an attacker with database access (but not the audit key) does: switch off the guards, then edit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from tocsin.audit.chain import GENESIS, event_hash, key_id_of, keyed_event_hash


def tamper(url: str, *statements: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        else:
            connection.execute(sa.text("DROP TRIGGER IF EXISTS audit_event_no_update"))
            connection.execute(sa.text("DROP TRIGGER IF EXISTS audit_event_no_delete"))
            connection.execute(sa.text("PRAGMA foreign_keys=OFF"))
        for statement in statements:
            connection.execute(sa.text(statement))
    engine.dispose()


def query(url: str, statement: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(sa.text(statement)).mappings().all()]
    engine.dispose()
    return rows


def _utc(raw: Any) -> datetime:
    return (datetime.fromisoformat(raw).replace(tzinfo=UTC) if isinstance(raw, str) else raw).astimezone(UTC)


def rewrite_chain(
    url: str, incident: str, *, key: bytes | None, actor: str | None = "mallory", relabel: bool = False
) -> None:
    """Recompute every hash of `incident` and its head, as a DBA would, editing event #2's actor to `actor`
    (None: no edit). `key`: a guessed or leaked key, or None to write every event as an unkeyed legacy row.
    `relabel`: name `key` as the signer (key id), as someone would who planted that key where it is trusted."""
    rows = query(
        url,
        f"SELECT id, seq, at, actor, action, payload, key_id FROM audit_event WHERE incident_id = {incident} "
        "ORDER BY id",
    )
    statements, previous = [], GENESIS
    for row in rows:
        payload = row["payload"] if isinstance(row["payload"], dict) else json.loads(row["payload"])
        who = actor if actor is not None and row["seq"] == 2 else row["actor"]
        content = dict(
            prev_hash=previous,
            incident_id=int(incident),
            seq=row["seq"],
            at=_utc(row["at"]),
            actor=who,
            action=row["action"],
            payload=payload,
        )
        digest = keyed_event_hash(key, **content) if key is not None else event_hash(**content)
        key_id = "NULL" if key is None else f"'{key_id_of(key) if relabel else row['key_id']}'"
        statements.append(
            f"UPDATE audit_event SET actor = '{who}', prev_hash = '{previous}', hash = '{digest}', "
            f"key_id = {key_id} WHERE id = {row['id']}"
        )
        previous = digest
    statements.append(f"UPDATE incident SET audit_head = '{previous}' WHERE id = {incident}")
    tamper(url, *statements)


def as_before_the_keyed_chain(url: str, *incidents: str) -> None:
    """Make the database look as it did before the keyed chain: every event unkeyed, and no boundary marker
    (what a database written by an older Tocsin holds)."""
    for incident in incidents:
        rewrite_chain(url, incident, key=None, actor=None)
    tamper(url, "DELETE FROM audit_legacy_boundary")


def forge_unkeyed_event(url: str, incident: str, *, actor: str, action: str, payload: dict[str, Any]) -> None:
    """Append an unkeyed event at the end of `incident`'s chain and move its head, without the key."""
    head = query(url, f"SELECT audit_seq, audit_head FROM incident WHERE id = {incident}")[0]
    seq, at = head["audit_seq"] + 1, datetime.now(UTC).replace(microsecond=0)
    digest = event_hash(
        prev_hash=head["audit_head"],
        incident_id=int(incident),
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        payload=payload,
    )
    document = json.dumps(payload).replace("'", "''")
    stamp = at.strftime("%Y-%m-%d %H:%M:%S.%f") + ("+00:00" if url.startswith("postgresql") else "")
    tamper(
        url,
        "INSERT INTO audit_event (incident_id, seq, at, actor, action, payload, prev_hash, hash, key_id) VALUES "
        f"({incident}, {seq}, '{stamp}', '{actor}', '{action}', '{document}', "
        f"'{head['audit_head']}', '{digest}', NULL)",
        f"UPDATE incident SET audit_seq = {seq}, audit_head = '{digest}' WHERE id = {incident}",
    )
