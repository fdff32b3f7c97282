"""What bounds a crash's doubt to one request: the process that sends a wave's batch records it durably.

Right before a batch's request leaves, `BatchJournal.posting` commits `posted_at` on the batch; as soon as
the provider answers, `answered` commits what it said (the batch accepted, or its rows failed or accepted one
by one); and `send_batch` lets one batch at a time be posted, so the next request leaves only after the
previous answer is durable. After a kill, the only batch that can be posted and unanswered is the one whose
request was in flight: the next run holds its rows for a decision (tocsin.wave.in_doubt) instead of sending
them again, and sends every other unanswered row (never posted) without doubt.

The journal writes on a connection of its own: in the wave's forked sender process (the engine's pool is
replaced there, never shared with the parent's connections) or, for a thread sender, beside the wave's own.
Each write is one small committed UPDATE; on SQLite it waits for the wave's current transaction (a chunk's
rows, a few milliseconds) through the busy timeout.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence

from sqlalchemy import Engine, update

from tocsin.core.clocks import utcnow
from tocsin.notifications.base import Channel
from tocsin.notifications.message import EmailMessage
from tocsin.wave.sender import Answer, ResultGroup, sent_and_grouped
from tocsin.wave.status import BATCHES
from tocsin.wave.store import mark_results


class BatchJournal:
    """Records each batch's request as it leaves and as it is answered, one batch at a time."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._pid = os.getpid()
        self._lock = threading.Lock()  # one request in flight per sending process

    def _bind(self) -> Engine:
        if os.getpid() != self._pid:  # forked: a pool of its own; the parent's connections stay the parent's
            self._engine.dispose(close=False)
            self._pid = os.getpid()
        return self._engine

    def posting(self, batch_id: int) -> None:
        with self._bind().begin() as connection:
            _relaxed_sync(connection)
            connection.execute(update(BATCHES).where(BATCHES.c.id == batch_id).values(posted_at=utcnow()))

    def answered(self, answer: Answer) -> None:
        with self._bind().begin() as connection:
            _relaxed_sync(connection)
            mark_results(connection, answer, utcnow())

    def send_batch(
        self, channel: Channel, batch_id: int, messages: Callable[[], Sequence[EmailMessage]]
    ) -> list[ResultGroup]:
        """Build the batch's messages (beside other batches' sends), then post them as the one request in flight:
        recorded before it leaves and its answer recorded before the next one leaves."""
        built = list(messages())
        with self._lock:
            self.posting(batch_id)
            groups = sent_and_grouped(channel, built)
            self.answered((batch_id, groups))
        return groups


def _relaxed_sync(connection: object) -> None:
    """SQLite (WAL): a commit that survives the process being killed without an fsync each (as the wave's)."""
    if connection.dialect.name == "sqlite":  # type: ignore[attr-defined]
        connection.exec_driver_sql("PRAGMA synchronous=NORMAL")  # type: ignore[attr-defined]
