"""Verifying the audit timeline as a whole: every chain (keyed), the legacy boundary marker, the database's
guards, and the newest signed checkpoint outside the database. What `tocsin audit verify` prints. Never writes,
and never creates a key: events signed with a key this process does not have are reported, not passed."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from tocsin.audit.boundary import LegacyBoundary, read_legacy_boundary
from tocsin.audit.chain import LEGACY_NOTE
from tocsin.audit.checkpoint import (
    Checkpoint,
    checkpoint_file,
    current_heads,
    database_identity,
    event_count,
    find_checkpoint,
    heads_digest,
    signature_of,
)
from tocsin.audit.guards import missing_guards
from tocsin.audit.keys import KEY_SOURCES, configured_key, verifying_keys
from tocsin.audit.timeline import check_incident, timeline
from tocsin.core.config import Settings
from tocsin.core.errors import NotFound
from tocsin.models import AuditEvent, Incident


@dataclass
class Verification:
    checked: int = 0
    problems: dict[str, list[str]] = field(default_factory=dict)  # INC-n -> what is wrong
    database: list[str] = field(default_factory=list)  # wrong with the database as a whole
    notes: list[str] = field(default_factory=list)  # not wrong, worth saying (legacy events, after checkpoint)
    warnings: list[str] = field(default_factory=list)  # not wrong, but the check was weaker (no checkpoint)
    checkpoint: str | None = None

    @property
    def ok(self) -> bool:
        return not self.database and not any(self.problems.values())

    def add(self, ref: str, problem: str) -> None:
        self.problems.setdefault(ref, []).append(problem)

    def as_dict(self) -> dict[str, Any]:
        broken = {ref: problems for ref, problems in self.problems.items() if problems}
        return {
            "ok": self.ok,
            "checked": self.checked,
            "problems": broken,
            "database": self.database,
            "checkpoint": self.checkpoint,
            "warnings": self.warnings,
            "notes": self.notes,
        }


def verify_timelines(
    session: Session, settings: Settings, incident_ids: list[int] | None, *, checkpoint_path: Path | None = None
) -> Verification:
    """Verify the incidents named (None: all, plus what a checkpoint says the database should hold)."""
    result = Verification()
    keys = verifying_keys(settings)
    result.database.extend(missing_guards(session.connection()))
    result.database.extend(_unknown_keys(session, settings, keys))
    boundary = read_legacy_boundary(session, keys)
    if boundary.problem is not None:
        result.database.append(boundary.problem)
    checkpoint = find_checkpoint(settings, checkpoint_path)
    if incident_ids is None:
        incidents = list(session.exec(select(Incident).order_by(col(Incident.id))))
    else:
        incidents = []
        for incident_id in incident_ids:
            found = session.get(Incident, incident_id)
            if found is None and (checkpoint is None or str(incident_id) not in checkpoint.record["incidents"]):
                raise NotFound(f"no incident INC-{incident_id}")
            if found is not None:
                incidents.append(found)
    legacy: dict[str, int] = {}  # INC-n -> unkeyed events accepted as written before the keyed chain
    for incident in incidents:
        ref = f"INC-{incident.id}"
        report = check_incident(session, incident, keys, boundary)
        result.problems[ref] = [str(p) for p in report.problems]
        if report.legacy:
            legacy[ref] = report.legacy
    result.checked = len(incidents)
    disputed: set[str] = set()  # incidents whose unkeyed events the checkpoint contradicts: not legacy after all
    if checkpoint is None:
        result.warnings.append(
            f"no checkpoint found: {checkpoint_file(settings)} has no line for {database_identity(settings)}, so "
            "only the keyed chains were checked. Events cut from the end of a chain, a deleted incident, and a "
            "database rewritten unkeyed with its legacy marker removed cannot be seen without one "
            "(`tocsin audit checkpoint`, or `--checkpoint FILE`)"
        )
    else:
        result.checkpoint = checkpoint.where
        wanted = None if incident_ids is None else {str(i) for i in incident_ids}
        disputed = _compare(session, checkpoint, keys, wanted, boundary, result)
    result.notes[:0] = [
        f"{ref}: {count} event(s) {LEGACY_NOTE}, checked with the unkeyed hash"
        for ref, count in legacy.items()
        if ref not in disputed
    ]
    return result


def _unknown_keys(session: Session, settings: Settings, keys: dict[str, bytes]) -> list[str]:
    """A line if some events are signed with a key this process does not have (each event is also named)."""
    signed_with = session.exec(select(AuditEvent.key_id).where(col(AuditEvent.key_id).is_not(None)).distinct())
    unknown = sorted(str(key_id) for key_id in signed_with if key_id not in keys)
    if not unknown:
        return []
    why = "no audit key is configured here" if configured_key(settings) is None else "they are not configured here"
    return [
        f"events signed with audit key(s) {', '.join(unknown)} cannot be checked: {why}. Provide the key the "
        f"database's writers use ({KEY_SOURCES}); a key rotated out goes in TOCSIN_AUDIT_RETIRED_KEYS"
    ]


def _keyed_since(session: Session, incident_id: int, seq: int) -> int:
    statement = (
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.incident_id == incident_id, AuditEvent.seq > seq, col(AuditEvent.key_id).is_not(None))
    )
    return session.exec(statement).one()


def _compare(
    session: Session,
    checkpoint: Checkpoint,
    keys: dict[str, bytes],
    wanted: set[str] | None,
    boundary: LegacyBoundary,
    result: Verification,
) -> set[str]:
    """Add what disagrees with the checkpoint to `result`; the incidents whose unkeyed count it contradicts."""
    record, when = checkpoint.record, checkpoint.record.get("at", "?")
    key = keys.get(str(record.get("key_id")))
    if key is None:
        result.database.append(
            f"checkpoint {checkpoint.where} is signed with audit key {record.get('key_id')}, not available here: "
            "cannot trust it"
        )
        return set()
    if not hmac.compare_digest(signature_of(key, record), str(record.get("signature"))):
        result.database.append(
            f"checkpoint {checkpoint.where} does not carry the audit key's signature: forged or edited"
        )
        return set()
    recorded: dict[str, dict[str, Any]] = record["incidents"]
    if heads_digest(key, recorded) != record.get("head"):
        result.database.append(f"checkpoint {checkpoint.where}: its database head does not match its incidents")
    now = current_heads(session)
    after, disputed = 0, set()
    for ref_id, head in recorded.items():
        if wanted is not None and ref_id not in wanted:
            continue
        ref, current = f"INC-{ref_id}", now.get(ref_id)
        if current is None:
            result.add(ref, f"incident deleted: the checkpoint of {when} lists it with {head['seq']} event(s)")
            continue
        events = {e.seq: e for e in timeline(session, int(ref_id))}
        at_checkpoint = events.get(head["seq"])
        if head["seq"] and (at_checkpoint is None or current["seq"] < head["seq"]):
            result.add(
                ref,
                f"events cut from the end: the timeline ends at #{max(events, default=0)} but the checkpoint of "
                f"{when} recorded #{head['seq']}",
            )
        elif at_checkpoint is not None and at_checkpoint.hash != head["hash"]:
            result.add(
                ref,
                f"event #{head['seq']} differs from the checkpoint of {when}: the timeline was rewritten up to it",
            )
        if current["legacy"] != head["legacy"]:
            disputed.add(ref)
            result.add(
                ref,
                f"{current['legacy']} unkeyed event(s), the checkpoint of {when} recorded {head['legacy']}: "
                "events were written or rewritten without the key",
            )
        after += _keyed_since(session, int(ref_id), head["seq"])
    for ref_id, current in now.items():
        if ref_id in recorded or (wanted is not None and ref_id not in wanted):
            continue
        after += _keyed_since(session, int(ref_id), 0)
        if current["legacy"]:
            disputed.add(f"INC-{ref_id}")
            result.add(
                f"INC-{ref_id}",
                f"{current['legacy']} unkeyed event(s) in an incident newer than the checkpoint of {when}: "
                "written without the key",
            )
    recorded_boundary = record.get("legacy_boundary")
    if recorded_boundary is not None and boundary.stored != recorded_boundary:
        found = "is missing" if boundary.stored is None else f"holds row id {boundary.stored}"
        result.database.append(
            f"the legacy boundary marker {found}, the checkpoint of {when} recorded row id {recorded_boundary}: "
            "it was removed or replaced"
        )
    if wanted is None:
        counts = record.get("counts", {})
        events_now = event_count(session)
        if events_now < counts.get("events", 0):
            result.database.append(
                f"the database holds {events_now} audit event(s), the checkpoint of {when} counted "
                f"{counts['events']}: events were removed (deleted or truncated)"
            )
        if len(now) < counts.get("incidents", 0):
            result.database.append(
                f"the database holds {len(now)} incident(s), the checkpoint of {when} counted {counts['incidents']}"
            )
    result.notes.append(
        f"checked against checkpoint {checkpoint.where} ({when}); {after} keyed event(s) written since are "
        "verified by the keyed chain alone"
    )
    return disputed
