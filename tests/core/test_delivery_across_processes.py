"""Two delivery passes in two processes at once (overlapping `tocsin scheduler run --once` passes, the
scheduler beside the Prefect reminders deployment) hand each message to its channel exactly once, on SQLite
(the pass takes the database's write lock before it reads) and PostgreSQL (FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlmodel import select
from tocsin.models import OutboundMessage

from tests.helpers import ROOT
from tocsin.db.engine import current_engine, session_scope
from tocsin.messages.queue import queue_to_channel

MESSAGES = 5

# One delivery pass, started when the `go` file appears, through a slow channel that logs every message it
# is handed (with the pass's pid) and takes it.
PASS = """
import os, sys, time
from pathlib import Path
from tocsin.db.engine import session_scope
from tocsin.messages.queue import deliver_pending
from tocsin.notifications.message import SendResult

go, log = Path(sys.argv[1]), Path(sys.argv[2])


class SlowChannel:
    name = "slack"

    def send(self, messages):
        time.sleep(1.0)  # a slow provider: the other pass starts meanwhile
        with log.open("a") as handed:
            handed.writelines(f"{os.getpid()} {m.message_id}\\n" for m in messages)
        return [SendResult.ok(m.message_id, f"ts-{m.message_id}") for m in messages]


while not go.exists():
    time.sleep(0.005)
with session_scope() as session:
    print(deliver_pending(session, slack=SlowChannel()))
"""


def test_two_passes_at_once_hand_each_message_over_once(tocsin_db: str, tmp_path: Path) -> None:
    current_engine()  # migrated before the passes start
    with session_scope() as session:
        for number in range(MESSAGES):
            queue_to_channel(session, "#ops", incident_id=None, purpose="reminder", subject="Due",
                             body="Art. 33 notice due in 4 h", message_id=f"reminder:{number}:240:0:#ops")  # fmt: skip
    go, log = tmp_path / "go", tmp_path / "handed.log"
    command = [sys.executable, "-c", PASS, str(go), str(log)]
    passes = [
        subprocess.Popen(
            command, cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    time.sleep(1.5)  # both processes started and waiting for the signal
    go.touch()
    answers = [process.communicate(timeout=120) for process in passes]
    assert all(process.returncode == 0 for process in passes), [err for _out, err in answers]

    handed = [line.split() for line in log.read_text().splitlines()]
    per_message = Counter(message for _pid, message in handed)
    assert len(per_message) == MESSAGES and set(per_message.values()) == {1}, handed  # never twice
    assert sorted(int(out) for out, _err in answers) == [0, MESSAGES]  # one pass took them all, the other none
    with session_scope() as session:
        rows = session.exec(select(OutboundMessage)).all()
    assert len(rows) == MESSAGES and all(row.sent_at is not None and row.channel == "slack" for row in rows)
