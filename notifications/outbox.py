"""The default channel when no provider is configured: every message becomes a readable file in a folder.

Email -> `.eml` (RFC 5322, multipart/alternative text + html; opens in any mail client, parses back with the
stdlib `email` parser). Chat -> `.json` (channel or user, text, blocks).

File names are `<UTC written-at>_<message key>.<ext>`: they sort by writing time and the key is unique per
message id (a readable slug of the id plus a hash of the whole id). Writing is idempotent per message id:
the folder is scanned once, and a message whose id already has a file is not written again (its existing
file name is returned). Each file is written to a temporary name and renamed, so a reader never sees half a
message. Two processes writing the same new id at the same instant could both write; the caller's delivery
rows, not this folder, are the record of what was sent.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path

from tocsin.notifications.message import ChatMessage, EmailMessage, SendResult

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_KEY_IN_NAME = re.compile(r"^\d{8}T\d{12}Z_(?P<key>.+)\.(?:eml|json)$")


def message_key(message_id: str) -> str:
    """A file-name-safe key that is unique per message id (slug for people, hash for uniqueness)."""
    slug = _UNSAFE.sub("-", message_id).strip("-.")[:60] or "message"
    digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:12]
    return f"{slug}-{digest}"


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
    mime["X-Tocsin-Message-Id"] = message.message_id
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
        self.from_address = from_address
        self._now = now
        self._fsync = fsync
        self._lock = threading.Lock()
        self._written: dict[str, str] = self._scan()

    def _scan(self) -> dict[str, str]:
        written: dict[str, str] = {}
        with os.scandir(self.folder) as entries:
            for entry in entries:
                match = _KEY_IN_NAME.match(entry.name)
                if match:
                    written.setdefault(match["key"], entry.name)
        return written

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
            try:
                self._write_atomically(name, data)
            except OSError as error:
                return SendResult.failed(message.message_id, f"outbox write failed: {error}", retryable=True)
            self._written[key] = name
            return SendResult.ok(message.message_id, name)

    def _write_atomically(self, name: str, data: bytes) -> None:
        descriptor, temp_path = tempfile.mkstemp(prefix=".tmp-", dir=self.folder)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                if self._fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(temp_path, self.folder / name)
        except BaseException:
            Path(temp_path).unlink(missing_ok=True)
            raise
