"""Recipient and mention files uploaded through the launch-playbook form and `POST /api/uploads`.

An upload is stored in a new private folder under $TOCSIN_HOME/uploads (folder 0700, file 0600: they hold
personal data), named by its upload id (`tocsin.flows.launch_files`), as `recipients.csv` (or `.jsonl`) or
`mentions.jsonl`, then read through the same readers a notice wave and a sentiment watch use. A file with a
single bad row is refused with the line numbers, and removed, before anything is launched. A launch input names
it as `upload:<id>`, never by its path. `tocsin purge` removes these files after `recipient_retention_days`
(recipients) or `mention_retention_days` (mentions), like drill files.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from tocsin.flows.launch_files import new_upload_folder
from tocsin.sentiment.connectors import FileConnector, read_mentions

from tocsin.core.errors import InvalidInput
from tocsin.wave.recipients import InvalidRow, read_recipients

MAX_LISTED = 10  # bad lines named in a refusal; the rest are counted
_CHUNK = 1 << 20


def is_upload(value: Any) -> bool:
    """A file part of the form that carries a file (an empty file input sends a part without a name)."""
    return hasattr(value, "file") and hasattr(value, "filename") and bool(value.filename)


def _suffix(kind: str, filename: str) -> str:
    given = Path(filename).suffix.lower()
    if kind == "recipients":
        return given if given in (".jsonl", ".ndjson") else ".csv"
    return ".jsonl"


def store_upload(upload: Any, kind: str, *, home: Path, incident_id: int | None = None) -> Path:
    """Copy the uploaded file to a new private folder under home/uploads; returns its path (the folder's name is
    the upload id, see `upload_id_of`)."""
    _upload_id, folder = new_upload_folder(home, incident_id=incident_id)
    path = folder / f"{kind}{_suffix(kind, str(upload.filename))}"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as target:
        upload.file.seek(0)
        shutil.copyfileobj(upload.file, target, _CHUNK)
    return path


def upload_id_of(path: Path) -> str:
    """The id a launch input names a stored upload by (`upload:<id>`)."""
    return path.parent.name


def discard(paths: list[Path]) -> None:
    """Remove stored uploads (and their folders) that will not be used."""
    for path in paths:
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # not empty, or already gone
            path.parent.rmdir()


def _listed(problems: list[str], total: int) -> list[str]:
    shown = problems[:MAX_LISTED]
    if total > len(shown):
        shown.append(f"and {total - len(shown)} more bad line(s)")
    return shown


def recipient_problems(path: Path) -> list[str]:
    """What is wrong with a recipients file, line by line (empty list: every row can be used)."""
    problems: list[str] = []
    bad = good = 0
    try:
        for row in read_recipients(path):
            if isinstance(row, InvalidRow):
                bad += 1
                if len(problems) < MAX_LISTED:
                    problems.append(f"line {row.line}: {row.reason}")
            else:
                good += 1
    except InvalidInput as error:  # the header: no email column, unreadable, a column twice
        line = (error.where or "").rpartition(":")[2]
        return [f"line {line}: {error.message}" if line.isdigit() else error.message]
    except UnicodeDecodeError as error:
        return [f"not UTF-8 text (byte {error.start})"]
    if bad:
        return _listed(problems, bad)
    return [] if good else ["no recipients: the file has no rows under its header"]


def mention_problems(path: Path) -> list[str]:
    """What is wrong with a JSONL mentions file, line by line. Posts that are not public are fine here: the
    watch skips them by design."""
    issues: list[Any] = []
    mentions = sum(1 for _ in read_mentions(FileConnector(path), secrets.token_bytes(32), issues.append))
    malformed = [issue for issue in issues if not issue.not_public]
    if malformed:
        return _listed([str(issue) for issue in malformed[:MAX_LISTED]], len(malformed))
    return [] if mentions or issues else ["no mentions: the file is empty"]


def file_problems(kind: str, path: Path) -> list[str]:
    return recipient_problems(path) if kind == "recipients" else mention_problems(path)
