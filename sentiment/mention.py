"""The Mention type and JSONL parsing with line-numbered errors.

A mention is one public social-media post about the brand. Author handles never reach memory or storage in
clear: `parse_record` replaces them with an HMAC-SHA256 pseudonym under a secret key, so the same handle maps
to the same pseudonym (useful to spot one angry account) without revealing who it is.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

# Fields a platform may use to say a post is not public; such posts are refused.
_VISIBILITY_FIELDS = ("visibility", "audience")
_PRIVATE_FLAGS = ("private", "protected", "is_private")
_OPTIONAL_TEXT_FIELDS = ("source", "lang", "url")


class MentionError(ValueError):
    """A line that is not a valid mention. `reason` says what is wrong; the caller adds the line number."""

    def __init__(self, reason: str, *, not_public: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.not_public = not_public


@dataclass(frozen=True, slots=True)
class Mention:
    id: str
    created_at: datetime  # timezone-aware, UTC
    text: str
    author: str | None = None  # pseudonym, never the clear handle
    source: str | None = None
    lang: str | None = None
    url: str | None = None

    @property
    def epoch(self) -> float:
        return self.created_at.timestamp()


@dataclass(frozen=True, slots=True)
class LineIssue:
    """A refused input line: where it is and why."""

    line: int
    reason: str
    not_public: bool = False

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@lru_cache(maxsize=65536)  # authors repeat; bounded so an endless stream cannot grow it
def pseudonymise(handle: str, key: bytes) -> str:
    """Stable, keyed pseudonym of an author handle ('@Alice' and 'alice' are the same person)."""
    normalised = handle.strip().lstrip("@").lower().encode("utf-8")
    return "u_" + hmac.digest(key, normalised, "sha256").hex()[:24]


def parse_timestamp(value: Any) -> datetime:
    """ISO 8601 with an explicit offset ('Z' or '+02:00'), returned in UTC."""
    if not isinstance(value, str) or not value:
        raise MentionError("created_at must be an ISO 8601 string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise MentionError(f"created_at is not ISO 8601: {value[:40]!r}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise MentionError(f"created_at has no UTC offset: {value[:40]!r}")
    return moment.astimezone(UTC)


def _check_public(record: dict[str, Any]) -> None:
    for field in _VISIBILITY_FIELDS:
        value = record.get(field)
        if value is not None and str(value).lower() != "public":
            raise MentionError(f"not a public post ({field}={value!r})", not_public=True)
    for field in _PRIVATE_FLAGS:
        if record.get(field) is True:
            raise MentionError(f"not a public post ({field}=true)", not_public=True)
    if record.get("public") is False:
        raise MentionError("not a public post (public=false)", not_public=True)


def parse_record(record: Any, key: bytes) -> Mention:
    """Validate one decoded JSON object and build a Mention (author pseudonymised with `key`)."""
    if not isinstance(record, dict):
        raise MentionError("not a JSON object")
    raw_id = record.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or raw_id == "":
        raise MentionError("id is missing or not a string")
    text = record.get("text")
    if text is None:
        raise MentionError("text is missing")
    if not isinstance(text, str):
        raise MentionError("text must be a string")
    created_at = parse_timestamp(record.get("created_at"))
    _check_public(record)
    author = record.get("author")
    if author is not None:
        if not isinstance(author, str):
            raise MentionError("author must be a string")
        author = pseudonymise(author, key) if author.strip() else None
    extras: list[str | None] = []
    for field in _OPTIONAL_TEXT_FIELDS:
        value = record.get(field)
        if value is not None and not isinstance(value, str):
            raise MentionError(f"{field} must be a string")
        extras.append(value)
    return Mention(str(raw_id), created_at, text, author, extras[0], extras[1], extras[2])


def parse_line(line: str | bytes, key: bytes) -> Mention | None:
    """One JSONL line to a Mention; None for a blank line; MentionError when it is not valid."""
    if not line.strip():
        return None
    try:
        record = json.loads(line)
    except ValueError as error:
        raise MentionError(f"invalid JSON ({error})") from None
    return parse_record(record, key)
