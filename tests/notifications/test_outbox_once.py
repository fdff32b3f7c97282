"""The outbox writes each message id once, across channel instances and processes (a scheduler restarted
after a kill, two delivery passes at once), finishes a write its writer was killed in the middle of, and names
its claims by a hash of the message id only (no handle, no address)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from tocsin.notifications.message import ChatMessage, EmailMessage
from tocsin.notifications.outbox import OutboxChannel, chat_document, claim_name, message_key

ROOT = Path(__file__).resolve().parents[2]


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def claims(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / ".claims").iterdir() if not p.name.startswith("."))


def test_two_channels_writing_the_same_id_leave_one_file(tmp_path: Path) -> None:
    first, second = OutboxChannel(tmp_path, fsync=False), OutboxChannel(tmp_path, fsync=False)  # both scanned now
    message = ChatMessage("reminder:1:0:99:alice", "overdue", user="alice")
    (one,) = first.send([message])
    (two,) = second.send([message])  # its scan predates the first write: the claim stops it
    assert one.accepted and two.accepted and two.provider_id == one.provider_id and two.attempts == 0
    assert files(tmp_path) == [one.provider_id]
    assert [p.stat().st_size for p in claims(tmp_path)] == [0]  # no second copy of the message
    (other,) = second.send([ChatMessage("reminder:2:0:99:alice", "overdue", user="alice")])  # a new id is written
    assert len(files(tmp_path)) == 2 and other.provider_id in files(tmp_path)


def test_claims_are_named_by_a_hash_of_the_message_id_only(tmp_path: Path) -> None:
    channel = OutboxChannel(tmp_path, fsync=False)
    channel.send([ChatMessage("reminder:1:0:99:alice", "overdue", user="alice"),
                  EmailMessage("reminder:1:0:99:bob", "bob@example.org", "Due", "text", name="Bob")])  # fmt: skip
    names = [p.name for p in claims(tmp_path)]
    assert names == sorted([claim_name("reminder:1:0:99:alice", "json"), claim_name("reminder:1:0:99:bob", "eml")])
    assert claim_name("reminder:1:0:99:bob", "eml") == hashlib.sha256(b"reminder:1:0:99:bob").hexdigest() + ".eml"
    assert not any("alice" in n or "bob" in n or "example" in n for n in names)


KILLED_WRITER = """
import os, signal, sys
from tocsin.notifications.message import ChatMessage, EmailMessage
from tocsin.notifications import outbox

real_replace = os.replace
def replace(source, target):  # killed between the claim and the rename into place
    if not str(target).endswith(('.json', '.eml')) or '.claims' in str(target):
        return real_replace(source, target)
    os.kill(os.getpid(), signal.SIGKILL)
outbox.os.replace = replace
message = ChatMessage("reminder:7:0:99:bob", "overdue", user="bob") if sys.argv[2] == "chat" else EmailMessage(
    "reminder:7:0:99:bob", "bob@example.org", "Overdue", "text", name="Bob")
outbox.OutboxChannel(sys.argv[1], fsync=False).send([message])
"""


def killed_writer(folder: Path, kind: str) -> None:
    """A process that claims a message and is killed (SIGKILL) before it renames the message into place."""
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(folder), kind], cwd=ROOT, timeout=60)
    assert done.returncode == -signal.SIGKILL


def test_a_claim_whose_writer_was_killed_is_put_in_place_on_the_next_open(tmp_path: Path) -> None:
    for kind in ("chat", "email"):
        folder = tmp_path / kind
        killed_writer(folder, kind)
        (claim,) = claims(folder)
        assert claim.stat().st_size > 0 and files(folder) == []  # the whole message is in the claim only
        os.utime(claim, (datetime(2026, 12, 5, 12, tzinfo=UTC).timestamp(),) * 2)
        channel = OutboxChannel(folder, fsync=False)
        extension = "json" if kind == "chat" else "eml"
        expected = f"20261205T120000000000Z_{message_key('reminder:7:0:99:bob')}.{extension}"
        assert files(folder) == [expected] and claim.stat().st_size == 0  # in place; no copy left in the claim
        assert b"reminder:7:0:99:bob" in (folder / expected).read_bytes()
        message = ChatMessage("reminder:7:0:99:bob", "overdue", user="bob")
        if kind == "email":
            message = EmailMessage("reminder:7:0:99:bob", "bob@example.org", "Overdue", "text", name="Bob")
        (again,) = channel.send([message])
        assert (again.attempts, again.provider_id, files(folder)) == (0, expected, [expected])


def test_a_scan_leaves_a_live_writers_claim_and_a_second_writer_waits_for_it(tmp_path: Path) -> None:
    message = ChatMessage("reminder:3:0:99:carl", "overdue", user="carl")
    document = chat_document(message, datetime(2026, 12, 5, 12, tzinfo=UTC))
    (tmp_path / ".claims").mkdir(parents=True)
    temporary = tmp_path / ".tmp-writer"
    temporary.write_text(json.dumps(document))
    claim = tmp_path / ".claims" / claim_name(message.message_id, "json")
    name = f"20261205T120000000000Z_{message_key(message.message_id)}.json"
    with temporary.open("rb") as held:  # a writer mid-write: its lock on the message, the claim made
        fcntl.flock(held, fcntl.LOCK_EX)
        os.link(temporary, claim)
        OutboxChannel(tmp_path, fsync=False)  # opening scans: the claim is its writer's to finish
        assert files(tmp_path) == [] and claim.stat().st_size > 0
        answers: list[str | None] = []
        second = threading.Thread(target=lambda: answers.extend(
            r.provider_id for r in OutboxChannel(tmp_path, fsync=False).send([message])))  # fmt: skip
        second.start()
        time.sleep(0.3)
        assert second.is_alive() and not answers  # it waits for the writer's lock
        os.replace(temporary, tmp_path / name)  # the writer finishes ...
        empty = tmp_path / ".claims" / ".tmp-empty"
        empty.touch()
        os.replace(empty, claim)  # ... and empties its claim, then lets go
    second.join(10)
    assert not second.is_alive() and files(tmp_path) == [name] and answers == [name]  # its file; no second one


def test_a_claim_that_holds_no_message_of_its_id_is_discarded(tmp_path: Path) -> None:
    message = ChatMessage("reminder:4:0:99:dana", "overdue", user="dana")
    claim = tmp_path / ".claims" / claim_name(message.message_id, "json")
    claim.parent.mkdir(parents=True)
    claim.write_text('{"message_id": "reminder:5:0:99:erin", "text": "someone else"}\n')  # not this id
    channel = OutboxChannel(tmp_path, fsync=False)
    assert not claim.exists() and files(tmp_path) == []
    (written,) = channel.send([message])  # the id is free again: written once
    assert written.attempts == 1 and files(tmp_path) == [written.provider_id]
