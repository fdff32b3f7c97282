"""The default channel when no provider is configured: every message becomes a readable file in a folder.

Email -> `.eml` (RFC 5322, multipart/alternative text + html; opens in any mail client, parses back with the
stdlib `email` parser). Chat -> `.json` (channel or user, text, blocks).

File names are `<UTC written-at>_<message key>.<ext>`: they sort by writing time and the key is unique per
message id (a readable slug of the id plus a hash of the whole id). Writing is idempotent per message id,
across channel instances and processes: each message is first written whole to a temporary file, which is
then hard-linked to its claim, `.claims/<sha256 of the message id>.<ext>` (the link fails if the claim exists,
atomically; the name holds no personal data, where a message id may hold a person's handle); only the writer
that made the claim renames its file into place, then empties the claim (so that no copy of the message
outlives the file's retention). The writer holds a lock (flock) on the message's file from before the claim
until the claim is emptied. A second write of the same id (a scheduler restarted after a kill, two delivery
passes at once) finds the claim, waits for that lock, and is a no-op that answers the existing file.

A writer killed between the claim and the rename leaves the whole message in the claim, and its lock goes
with the process: the next scan (when a channel opens, or when a write finds the claim) takes the lock, reads
the message id from the message itself, and puts the message in place (named by the claim's modification
time); a claim that holds no message of this id (not an outbox message, or another id) is removed, so that
the id can be written again. A scan leaves alone a claim whose writer is still alive (it holds the lock).
So a reader never sees half a message, and a message id never has two files. `tocsin purge` removes claims
older than the recipient retention (tocsin.retention.files).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage as MimeMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path

from tocsin.notifications.message import ChatMessage, EmailMessage, SendResult

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_KEY_IN_NAME = re.compile(r"^\d{8}T\d{12}Z_(?P<key>.+)\.(?:eml|json)$")
_CLAIMS = ".claims"  # <sha256 of the message id>.<ext>: one per message id, whoever writes it
_MESSAGE_ID_HEADER = "X-Tocsin-Message-Id"


def _digest(message_id: str) -> str:
    return hashlib.sha256(message_id.encode("utf-8")).hexdigest()


def message_key(message_id: str) -> str:
    """A file-name-safe key that is unique per message id (slug for people, hash for uniqueness)."""
    slug = _UNSAFE.sub("-", message_id).strip("-.")[:60] or "message"
    return f"{slug}-{_digest(message_id)[:12]}"


def claim_name(message_id: str, extension: str) -> str:
    """The claim's file name: a hash of the message id only (no handle, no address), with the message's
    extension."""
    return f"{_digest(message_id)}.{extension}"


def message_id_in(data: bytes, extension: str) -> str | None:
    """The message id an outbox message carries (an email's X-Tocsin-Message-Id header, a chat document's
    `message_id`), or None if `data` is not such a message."""
    if extension == ".eml":
        value = BytesHeaderParser(policy=policy.default).parsebytes(data).get(_MESSAGE_ID_HEADER)
        return str(value) if value else None
    try:
        document = json.loads(data)
    except ValueError:
        return None
    found = document.get("message_id") if isinstance(document, dict) else None
    return found if isinstance(found, str) else None


def outbox_file_name(message_id: str, written_at: datetime, extension: str) -> str:
    stamp = written_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}_{message_key(message_id)}.{extension}"


def build_mime(message: EmailMessage, from_address: str, written_at: datetime) -> MimeMessage:
    """The email as a stdlib MIME message (pure; no I/O)."""
    mime = MimeMessage()
    mime["From"] = from_address
    mime["To"] = formataddr((message.name or "", message.to))
    subject, text, html = message.rendered()
    mime["Subject"] = subject
    mime["Date"] = format_datetime(written_at.astimezone(UTC))
    mime["Message-ID"] = make_msgid(idstring=message_key(message.message_id), domain="tocsin.outbox")
    mime[_MESSAGE_ID_HEADER] = message.message_id
    if message.custom_args:
        mime["X-Tocsin-Custom-Args"] = json.dumps(dict(message.custom_args), sort_keys=True)
    for header, value in message.headers.items():
        mime[header] = value
    mime.set_content(text)
    if html is not None:
        mime.add_alternative(html, subtype="html")
    return mime


def chat_document(message: ChatMessage, written_at: datetime) -> dict[str, object]:
    return {
        "message_id": message.message_id,
        "channel": message.channel,
        "user": message.user,
        "text": message.text,
        "blocks": [dict(block) for block in message.blocks],
        "written_at": written_at.astimezone(UTC).isoformat(),
    }


class OutboxChannel:
    """Writes messages to `folder` (created if missing). Thread-safe within one process."""

    name = "outbox"

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        from_address: str = "Tocsin <tocsin@localhost>",
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        fsync: bool = True,
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._claims = self.folder / _CLAIMS
        self._claims.mkdir(exist_ok=True)
        self.from_address = from_address
        self._now = now
        self._fsync = fsync
        self._lock = threading.Lock()
        self._written: dict[str, str] = self._scan()

    def _scan(self) -> dict[str, str]:
        """message key -> file name of every message in the folder, after finishing the claims whose writers
        died with the message still in the claim."""
        written: dict[str, str] = {}
        with os.scandir(self.folder) as entries:
            for entry in entries:
                match = _KEY_IN_NAME.match(entry.name)
                if match:
                    written.setdefault(match["key"], entry.name)
        for claim in self._claims.iterdir():
            if claim.name.startswith("."):
                continue  # an empty file on its way to replace a claim
            try:
                holds_a_message = claim.stat().st_size > 0
            except FileNotFoundError:
                continue  # purged meanwhile
            if holds_a_message:
                self._settle(claim, written, wait=False)
        return written

    def _settle(self, claim: Path, written: dict[str, str], *, wait: bool) -> None:
        """Finish a claim whose writer died between the claim and the rename (the whole message is in it):
        put the message in place unless it is there already, then empty the claim. A claim whose writer is
        alive holds its lock: waited for when `wait`, else left to that writer."""
        try:
            handle = claim.open("rb")
        except FileNotFoundError:
            return
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # its writer is alive and finishes it
            opened = os.fstat(handle.fileno())
            try:
                current = claim.stat()
            except FileNotFoundError:
                return
            if not opened.st_size or current.st_ino != opened.st_ino:
                return  # emptied by its writer (or by another scan) meanwhile
            message_id = message_id_in(handle.read(), claim.suffix)
            if message_id is None or claim_name(message_id, claim.suffix[1:]) != claim.name:
                claim.unlink(missing_ok=True)  # holds no message of this id: the id is free to be written again
                return
            key = message_key(message_id)
            if key not in written:
                when = datetime.fromtimestamp(opened.st_mtime, UTC)
                name = f"{when.strftime('%Y%m%dT%H%M%S%fZ')}_{key}{claim.suffix}"
                with contextlib.suppress(FileExistsError):
                    os.link(claim, self.folder / name)
                written[key] = name
            self._empty(claim)

    def _empty(self, claim: Path) -> None:
        """Replace the claim by an empty file: it stays (the id is taken) but holds no copy of the message."""
        descriptor, empty = tempfile.mkstemp(prefix=".tmp-", dir=self._claims)
        os.close(descriptor)
        os.replace(empty, claim)

    def path_for(self, message_id: str) -> Path | None:
        """The file written for this message id, or None if it was never written."""
        name = self._written.get(message_key(message_id))
        return self.folder / name if name else None

    def send(self, messages: Sequence[EmailMessage | ChatMessage]) -> list[SendResult]:
        return [self._send_one(message) for message in messages]

    def _send_one(self, message: EmailMessage | ChatMessage) -> SendResult:
        key = message_key(message.message_id)
        with self._lock:
            existing = self._written.get(key)
            if existing is not None:
                return SendResult.ok(message.message_id, existing, attempts=0)
            written_at = self._now()
            if isinstance(message, EmailMessage):
                data = bytes(build_mime(message, self.from_address, written_at))
                name = outbox_file_name(message.message_id, written_at, "eml")
            else:
                document = chat_document(message, written_at)
                data = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
                name = outbox_file_name(message.message_id, written_at, "json")
            claim = self._claims / claim_name(message.message_id, name.rsplit(".", 1)[1])
            try:
                claimed = self._write_once(claim, name, data)
            except OSError as error:
                return SendResult.failed(message.message_id, f"outbox write failed: {error}", retryable=True)
            if claimed is None:  # another writer (process, instance, earlier run) has this id: a no-op
                self._settle(claim, self._written, wait=True)  # once its writer is done (or finished for it)
                self._written.update(self._scan())
                existing = self._written.get(key, name)
                return SendResult.ok(message.message_id, existing, attempts=0)
            self._written[key] = claimed
            return SendResult.ok(message.message_id, claimed)

    def _write_once(self, claim: Path, name: str, data: bytes) -> str | None:
        """Write `data` as `name` unless its message id was claimed already (then None)."""
        descriptor, temp_path = tempfile.mkstemp(prefix=".tmp-", dir=self.folder)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                # Held until the claim is emptied (or the process dies): a scan leaves a live write alone.
                fcntl.flock(handle, fcntl.LOCK_EX)
                handle.write(data)
                handle.flush()  # the whole message is in the file before the claim makes it visible
                if self._fsync:
                    os.fsync(handle.fileno())
                try:
                    os.link(temp_path, claim)
                except FileExistsError:
                    return None
                os.replace(temp_path, self.folder / name)
                self._empty(claim)
                return name
        finally:
            Path(temp_path).unlink(missing_ok=True)
