"""Removing files that hold personal data after their retention period: outbox copies of messages
(addresses, names; also the temporary copy a writer killed mid-write left behind), the outbox's claims
(`outbox/.claims/`: one per message id, notifications/outbox.py; empty once the message is in place, but a
claim whose writer was killed holds the message until the next scan), drill recipient lists and recipient
files uploaded in the web console (`recipient_retention_days`), drill and uploaded mention streams
(`mention_retention_days`). Age is the file's modification time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path


@dataclass(frozen=True)
class Expired:
    path: Path
    kind: str  # outbox | claims | recipients | mentions


KINDS = ("outbox", "claims", "recipients", "mentions")
CLAIMS = ".claims"  # notifications/outbox.py
TEMPORARY = ".tmp-"  # a file written whole before it is renamed or linked into place


def _files(home: Path) -> Iterator[tuple[Path, str]]:
    for folder in [home / "outbox", *sorted((home / "drills").glob("*/outbox"))]:
        for path in folder.iterdir() if folder.is_dir() else ():
            if path.is_file() and (path.suffix in (".eml", ".json") or path.name.startswith(TEMPORARY)):
                yield path, "outbox"
        claims = folder / CLAIMS
        for path in claims.iterdir() if claims.is_dir() else ():
            if path.is_file():
                yield path, "claims"
    for path in (home / "drills").glob("*/recipients.csv"):
        yield path, "recipients"
    for path in (home / "drills").glob("*/mentions.jsonl"):
        yield path, "mentions"
    for path in (home / "uploads").glob("*/recipients.*"):  # web console uploads (web/console/uploads.py)
        yield path, "recipients"
    for path in (home / "uploads").glob("*/mentions.*"):
        yield path, "mentions"


def expired_files(home: Path, *, now: datetime, recipient_days: int, mention_days: int) -> list[Expired]:
    limits = {
        "outbox": now - timedelta(days=recipient_days),
        "claims": now - timedelta(days=recipient_days),
        "recipients": now - timedelta(days=recipient_days),
        "mentions": now - timedelta(days=mention_days),
    }
    found = []
    for path, kind in _files(home):
        try:
            modified = datetime.fromtimestamp(path.stat().st_mtime, tz=now.tzinfo)
        except FileNotFoundError:
            continue  # renamed or replaced by a writer meanwhile
        if modified <= limits[kind]:
            found.append(Expired(path, kind))
    return found


def purge_files(home: Path, *, now: datetime, recipient_days: int, mention_days: int, dry_run: bool) -> list[Expired]:
    found = expired_files(home, now=now, recipient_days=recipient_days, mention_days=mention_days)
    if not dry_run:
        for item in found:
            item.path.unlink(missing_ok=True)
            if item.path.parent.parent == home / "uploads" and not any(item.path.parent.iterdir()):
                item.path.parent.rmdir()
    return found
