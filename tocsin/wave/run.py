"""The notice wave: one approved message to every recipient of a file, exactly once per draft.

Flow, per chunk of rows (streamed; memory stays flat for a million recipients):
1. the wave's worker (`wave_worker`: a child process for the SendGrid client, else a thread) reads and plans
   the file a few chunks ahead;
2. invalid rows are reported with their line numbers; suppressed addresses are counted and skipped;
   rows already accepted by an earlier run are skipped; a second row for the same (draft, address) is
   reported as a duplicate;
3. the chunk's delivery rows are written `queued` and committed BEFORE the chunk goes to the provider;
4. the chunk is released to the worker, saying which of its rows go out, under which message id and in
   which batch; the worker builds its emails and posts its request through the batch journal
   (tocsin.wave.journal): one request in flight at a time, its batch marked `posted` and committed before
   it leaves and its answer (the batch `accepted`, with provider id and attempts; any message answered
   otherwise on its own row) committed before the next one leaves.

A rerun after a crash sends every row not accepted, except the rows of the one request that was in flight
when the process died (posted, never answered: the provider may or may not have taken it; SendGrid has no
idempotency key). Those are held, counted as `held`, and wait for a decision (tocsin.wave.in_doubt: resend
or skip) while the rest of the wave goes on; rows someone decided to skip are counted as `skipped`. Rows a
crash left queued but never posted are sent without doubt.
The service commits as it goes (per chunk), so it takes a session it may commit, not a session_scope.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, col, select

from tocsin.audit.timeline import append_event
from tocsin.core.clocks import utcnow
from tocsin.core.errors import InvalidInput
from tocsin.incidents.service import get_incident
from tocsin.models.delivery import NoticeWave
from tocsin.models.enums import WaveStatus
from tocsin.notifications.base import Channel
from tocsin.notifications.message import EmailMessage
from tocsin.wave.drafts import ContentSource, sendable_content
from tocsin.wave.journal import BatchJournal
from tocsin.wave.plan import (
    DRAFT,
    EMAIL,
    ChunkPlan,
    DraftChooser,
    WaveDraft,
    chunked,
    custom_args_for,
    email_for,
    plan_chunk,
    wave_draft,
)
from tocsin.wave.recipients import InvalidRow, Row, read_recipients
from tocsin.wave.sender import Answer, JobRow
from tocsin.wave.status import DELIVERIES, SENT_STATUSES, SKIPPED, of_incident, status_counts
from tocsin.wave.store import (
    hold_batches,
    incident_wave_lock,
    insert_queued,
    known_addresses,
    new_batch,
    requeue,
)
from tocsin.wave.worker import Selection, Worker, start_worker

CHUNK_SIZE = 1000  # one SendGrid request (1,000 personalizations)
IN_FLIGHT = 2
READ_AHEAD = 2  # chunks read and planned ahead of the one being written
COMMIT_CHUNKS = 2  # chunks written per commit while the sender is busy (each commit waits on the disk)


@dataclass
class WaveReport:
    wave_id: int
    incident_id: int
    channel: str
    rows: int = 0
    sent: int = 0
    already_sent: int = 0
    suppressed: int = 0
    invalid: int = 0
    failed: int = 0
    held: int = 0  # rows of an in-doubt request, not sent: waiting for a decision
    skipped: int = 0  # rows someone decided not to send again
    invalid_rows: list[InvalidRow] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "sent": self.sent,
            "already_sent": self.already_sent,
            "suppressed": self.suppressed,
            "invalid": self.invalid,
            "failed": self.failed,
            "held": self.held,
            "skipped": self.skipped,
        }


Progress = Callable[[WaveReport], None]


def load_drafts(
    session: Session, incident_id: int, draft_ids: Sequence[int], content: ContentSource
) -> list[WaveDraft]:
    if not draft_ids:
        raise InvalidInput("give at least one --draft")
    return [wave_draft(d, content(session, d, incident_id)) for d in dict.fromkeys(draft_ids)]


def _refuse_purged(session: Session, incident_id: int, draft_ids: Sequence[int]) -> None:
    purged = session.exec(
        select(NoticeWave).where(NoticeWave.incident_id == incident_id, col(NoticeWave.purged_at).is_not(None))
    ).all()
    for wave in purged:
        overlap = sorted(set(wave.draft_ids) & set(draft_ids))
        if overlap:
            raise InvalidInput(
                f"the recipient data of draft(s) {overlap} was purged (wave {wave.id}); who already got it "
                "is no longer known, so it cannot be sent again"
            )


class _WaveRun:
    def __init__(
        self, session: Session, wave: NoticeWave, drafts: list[WaveDraft], chooser: DraftChooser, channel: Channel
    ) -> None:
        self.session = session
        self.wave = wave
        self.wave_id = wave.id or 0
        self.drafts = {d.draft_id: d for d in drafts}
        self.chooser = chooser
        self.channel = channel
        self.custom_args = {d.draft_id: custom_args_for(d, f"INC-{wave.incident_id}") for d in drafts}
        self.report = WaveReport(self.wave_id, wave.incident_id, channel.name)

    def prepare(self, chunk: ChunkPlan) -> tuple[int, Selection] | None:
        """Classify a planned chunk against the database and write its delivery rows, in a batch of their own
        (not committed here); returns the batch and which rows to send, or None if there are none."""
        report = self.report
        report.rows += chunk.rows
        for line, reason in chunk.invalid:
            self._invalid(line, reason)
        planned = chunk.planned
        if not planned:
            return None
        emails = sorted({plan[EMAIL] for plan in planned})
        suppressed, existing = known_addresses(self.session, self.drafts, emails)
        incident_id, wave_id = self.wave.incident_id, self.wave_id
        if not suppressed and not existing:  # a first wave's chunk: every row is new and goes out as planned
            batch_id = new_batch(self.session, wave_id)
            rows = [plan[DRAFT:] for plan in planned]  # QUEUED_COLUMNS
            insert_queued(self.session, incident_id, wave_id, batch_id, rows, utcnow())
            return batch_id, None
        new_rows: list[tuple[object, ...]] = []
        reused_rows: list[dict[str, object]] = []
        selection: list[tuple[int, str]] = []
        held: list[int] = []  # in-doubt batches found in this chunk
        for index, plan in enumerate(planned):
            line, draft_id, email, name, jurisdiction, substitutions, message = plan
            if email in suppressed:
                report.suppressed += 1
                continue
            found = existing.get((draft_id, email))
            if found is None:
                new_rows.append(plan[DRAFT:])
                selection.append((index, message))
                continue
            if found.wave_id == wave_id:
                self._invalid(line, "duplicate of an earlier row (same address and draft)")
                continue
            if found.status in SENT_STATUSES:
                report.already_sent += 1
                continue
            if found.status == SKIPPED:
                report.skipped += 1
                continue
            if found.in_doubt:  # its request was in flight when a run died: wait for a decision
                report.held += 1
                held.append(found.batch_id)
                continue
            reused_rows.append(
                {
                    "key_email": email,
                    "key_draft": draft_id,
                    "wave": wave_id,
                    "new_name": name,
                    "new_jurisdiction": jurisdiction,
                    "new_substitutions": substitutions,
                }
            )
            selection.append((index, found.message_id))
        hold_batches(self.session, held, utcnow())
        if not selection:
            return None
        batch_id = new_batch(self.session, wave_id)
        insert_queued(self.session, incident_id, wave_id, batch_id, new_rows, utcnow())
        requeue(self.session, [{**row, "batch": batch_id} for row in reused_rows])
        return batch_id, selection

    def build(self, rows: Sequence[JobRow]) -> list[EmailMessage]:
        """The emails of a job (run by the sender: in its process or thread)."""
        drafts, custom_args = self.drafts, self.custom_args
        return [
            email_for(drafts[draft_id], message_id=message, email=email, name=name, substitutions=values,
                      custom_args=custom_args[draft_id])
            for draft_id, message, email, name, values in rows
        ]  # fmt: skip

    def _invalid(self, line: int, reason: str) -> None:
        self.report.invalid += 1
        self.report.invalid_rows.append(InvalidRow(line, reason))

    def record(self, answers: list[Answer]) -> None:
        """Count what the provider said (the sender's journal has already marked the rows)."""
        for _batch, groups in answers:
            for group in groups:
                if group.accepted:
                    self.report.sent += len(group.message_ids)
                else:
                    self.report.failed += len(group.message_ids)
                    self.report.failures[group.error or "refused"] += len(group.message_ids)

    def send_all(self, worker: Worker, in_flight: int, progress: Progress | None) -> None:
        """Per chunk: write its rows `queued` and commit, then release it to the worker; while the worker is
        sending, up to COMMIT_CHUNKS chunks share one commit. A few chunks wait released, so the worker never
        idles while this process writes the next chunks."""
        ahead = max(1, in_flight) + COMMIT_CHUNKS
        written: list[tuple[ChunkPlan, int, Selection]] = []  # chunks whose rows are written, not committed yet
        try:
            for chunk in worker:
                if not self.session.in_transaction():
                    _sqlite_commit_without_fsync(self.session)
                job = self.prepare(chunk)
                if job is None:
                    worker.release(chunk, None)  # nothing of it goes out
                else:
                    written.append((chunk, *job))
                if len(written) < COMMIT_CHUNKS and worker.outstanding and written:
                    continue  # the worker is sending: one commit for several chunks
                self.session.commit()  # queued rows are durable before their request leaves
                self.record(worker.collect(block=False))
                for released in written:
                    worker.release(*released)
                written.clear()
                while worker.outstanding > ahead:
                    self.record(worker.collect(block=True))
                if progress is not None:
                    progress(self.report)
            self.session.commit()
            for released in written:
                worker.release(*released)
            while worker.outstanding:
                self.record(worker.collect(block=True))
                if progress is not None:
                    progress(self.report)
            worker.close()
        except BaseException:
            worker.abort()
            raise


def run_wave(
    session: Session,
    incident_id: int,
    draft_ids: Sequence[int],
    source: str | Path,
    *,
    channel: Channel,
    actor: str,
    content: ContentSource = sendable_content,
    chunk_size: int = CHUNK_SIZE,
    in_flight: int = IN_FLIGHT,
    progress: Progress | None = None,
) -> WaveReport:
    """Send the approved draft(s) to every recipient of `source`; returns the run's report."""
    incident = get_incident(session, incident_id)
    drafts = load_drafts(session, incident_id, draft_ids, content)
    chooser = DraftChooser(drafts, incident.locale)
    _refuse_purged(session, incident_id, [d.draft_id for d in drafts])
    rows = read_recipients(source)
    first = next(rows, None)  # a file-level problem (no email column) stops here, before anything is written
    session.rollback()
    with incident_wave_lock(session.get_bind(), incident_id):  # type: ignore[arg-type]
        incident = get_incident(session, incident_id)
        wave = NoticeWave(
            incident_id=incident_id,
            draft_ids=[d.draft_id for d in drafts],
            content_sha256={str(d.draft_id): d.content.content_sha256 for d in drafts},
            channel=channel.name,
            source_name=Path(source).name[:300],
            started_by=actor,
            started_at=utcnow(),
        )
        session.add(wave)
        session.flush()
        append_event(
            session,
            incident,
            actor=actor,
            action="notice.wave_started",
            payload={
                "wave": wave.id,
                "drafts": wave.draft_ids,
                "content_sha256": wave.content_sha256,
                "channel": channel.name,
            },
        )
        session.commit()
        run = _WaveRun(session, wave, drafts, chooser, channel)
        planned = (
            plan_chunk(chunk, chooser, run.wave_id, seq)
            for seq, chunk in enumerate(chunked(_prepend(first, rows), chunk_size))
        )
        journal = BatchJournal(session.get_bind())  # type: ignore[arg-type]
        worker = start_worker(planned, channel, run.build, in_flight, READ_AHEAD, journal.send_batch)
        try:
            run.send_all(worker, in_flight, progress)
        except BaseException:
            worker.abort()  # also when the wave failed before it began sending
            session.rollback()
            _finish(session, run.report, actor, status=WaveStatus.failed)
            raise
        _finish(session, run.report, actor, status=WaveStatus.finished)
        return run.report


def _sqlite_commit_without_fsync(session: Session, relaxed: bool = True) -> None:
    """SQLite (WAL) with synchronous=NORMAL for the wave's own transactions: a commit survives the process
    being killed (all the exactly-once bookkeeping needs) without waiting for an fsync each time; a power
    cut may lose the last commits, whose rows are then sent again. Set per transaction because the pool
    may hand out another connection after each commit. A million delivery rows make indexes far larger
    than SQLite's default 2 MB page cache, and WAL checkpoints every 4 MB rewrite the same index pages
    again and again: a 64 MB cache and 32 MB between checkpoints keep the per-row cost flat."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA synchronous={'NORMAL' if relaxed else 'FULL'}")
        # back to SQLite's defaults when the wave is done (the connection returns to the pool)
        connection.exec_driver_sql(f"PRAGMA cache_size={-65536 if relaxed else -2000}")
        connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint={8192 if relaxed else 1000}")


def _prepend(first: Row | None, rest: Iterator[Row]) -> Iterator[Row]:
    if first is not None:
        yield first
    yield from rest


def _finish(session: Session, report: WaveReport, actor: str, *, status: WaveStatus) -> None:
    _sqlite_commit_without_fsync(session, relaxed=False)
    wave = session.get(NoticeWave, report.wave_id)
    assert wave is not None
    wave.status, wave.finished_at, wave.counts = status, utcnow(), report.counts()
    session.add(wave)
    append_event(
        session,
        get_incident(session, report.incident_id),
        actor=actor,
        action="notice.wave_finished" if status == WaveStatus.finished else "notice.wave_failed",
        payload={"wave": report.wave_id, "channel": report.channel, **report.counts()},
    )
    session.commit()


def wave_status(session: Session, incident_id: int) -> list[NoticeWave]:
    statement = select(NoticeWave).where(NoticeWave.incident_id == incident_id).order_by(col(NoticeWave.id))
    return list(session.exec(statement))


def delivery_status_counts(session: Session, incident_id: int) -> dict[int, dict[str, int]]:
    """draft id -> status -> number of delivery rows (one grouped query)."""
    counts = status_counts(session, DELIVERIES.c.draft_id, of_incident(incident_id))
    return {int(draft_id): statuses for draft_id, statuses in counts.items()}
