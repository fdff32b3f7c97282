"""Where mentions come from. A connector yields raw numbered records; `read_mentions` validates them.

Adding a platform API later means writing one class with a `records()` method that yields
`(number, raw)` pairs, where raw is a JSONL line (str/bytes) or an already-decoded dict.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Protocol

from tocsin.sentiment.mention import LineIssue, Mention, MentionError, parse_line, parse_record

from tocsin.core.errors import InvalidInput

RawRecord = str | bytes | dict[str, Any]


class Connector(Protocol):
    """A source of raw mention records, numbered from 1 (line numbers for files and streams)."""

    def records(self) -> Iterator[tuple[int, RawRecord]]: ...


class FileConnector:
    """A JSONL file, read line by line (never loaded whole)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def open(self) -> IO[str]:
        try:
            return self.path.open(encoding="utf-8", errors="replace", newline="")
        except OSError as error:
            raise InvalidInput(f"cannot read the file ({error.strerror or error})", where=str(self.path)) from None

    def records(self) -> Iterator[tuple[int, RawRecord]]:
        with self.open() as handle:
            try:
                yield from enumerate(handle, start=1)
            except OSError as error:
                raise InvalidInput(f"cannot read the file ({error})", where=str(self.path)) from None


class StreamConnector:
    """A text stream such as stdin: each line is handled as soon as it arrives."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdin

    def records(self) -> Iterator[tuple[int, RawRecord]]:
        number = 0
        # readline (not iteration) so that a live pipe is not read ahead in blocks
        while line := self.stream.readline():
            number += 1
            yield number, line


class IterableConnector:
    """Records already in memory or arriving from elsewhere (the HTTP ingestion endpoint hands them here)."""

    def __init__(self, items: Iterable[RawRecord]) -> None:
        self.items = items

    def records(self) -> Iterator[tuple[int, RawRecord]]:
        return enumerate(self.items, start=1)


def read_mentions(connector: Connector, key: bytes, on_issue: Callable[[LineIssue], None]) -> Iterator[Mention]:
    """Valid mentions in arrival order; every refused record goes to `on_issue` with its number."""
    for number, raw in connector.records():
        try:
            mention = parse_record(raw, key) if isinstance(raw, dict) else parse_line(raw, key)
        except MentionError as error:
            on_issue(LineIssue(number, error.reason, error.not_public))
            continue
        if mention is not None:
            yield mention


def ingest_records(items: Iterable[RawRecord], key: bytes) -> tuple[list[Mention], list[LineIssue]]:
    """Validate a batch (e.g. the body of an HTTP POST): the accepted mentions and the refused records."""
    issues: list[LineIssue] = []
    mentions = list(read_mentions(IterableConnector(items), key, issues.append))
    return mentions, issues
