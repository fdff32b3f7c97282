"""Reading a notice wave's recipient file (CSV or JSONL), streamed row by row with line numbers.

Columns (CSV header or JSON keys, case-insensitive): `email` (required), `name`, `locale`, `jurisdiction`,
and any other column, usable as a substitution tag (`first_name` fills `-first_name-`). A row that cannot
be used becomes an `InvalidRow` with its line number and the reason, never silently dropped; blank lines
are not rows. The reason never repeats the row's personal data, so it can be printed and stored.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tocsin.core.errors import InvalidInput
from tocsin.wave.recipient_text import check_utf8

# The address shape SendGrid accepts (kept in step with notifications.sendgrid_batches; a test checks it).
EMAIL_PATTERN = re.compile(r"^[^@\s\"<>(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
MAX_EMAIL_LENGTH = 320
MAX_FIELD_LENGTH = 1000
_LOCALE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$")
_JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}


@dataclass(slots=True)  # not frozen: a frozen dataclass costs 4x more to build, a million times
class Recipient:
    line: int
    email: str  # normalised: trimmed, lower case
    name: str | None
    locale: str | None  # normalised: lower case, "-" separators
    jurisdiction: str | None
    fields: dict[str, str]  # every non-empty column (lower-case names), for substitution tags


@dataclass(frozen=True, slots=True)
class InvalidRow:
    line: int
    reason: str


Row = Recipient | InvalidRow


def normalise_email(raw: str) -> str:
    return raw.strip().lower()


def email_problem(email: str) -> str | None:
    """Why this (normalised) address cannot be emailed, or None."""
    if not email:
        return "no email address"
    if len(email) > MAX_EMAIL_LENGTH:
        return f"email address longer than {MAX_EMAIL_LENGTH} characters"
    if not EMAIL_PATTERN.match(email):
        return "not a valid email address"
    return None


def normalise_locale(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    return raw.strip().lower().replace("_", "-")


_locale_checks: dict[str, bool] = {}


def _valid_locale(locale: str) -> bool:
    known = _locale_checks.get(locale)
    if known is None:  # few distinct values in a file: remember each answer
        known = _locale_checks[locale] = bool(_LOCALE.match(locale)) if len(_locale_checks) < 10_000 else False
    return known


def make_row(line: int, values: dict[str, str]) -> Row:
    """One recipient from its column values (names already lower case); pure."""
    return _checked_row(line, {key: value.strip() for key, value in values.items() if value and not value.isspace()})


def _checked_row(line: int, fields: dict[str, str]) -> Row:
    """`fields`: the row's non-empty values, trimmed (completed here with the normalised address)."""
    email = fields.get("email", "").lower()
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(email):
        return InvalidRow(line, email_problem(email) or "not a valid email address")
    fields["email"] = email
    if max(map(len, fields.values())) > MAX_FIELD_LENGTH:
        longest = max(fields, key=lambda key: len(fields[key]))
        return InvalidRow(line, f"field {longest!r} is longer than {MAX_FIELD_LENGTH} characters")
    locale = fields.get("locale")
    if locale is not None:
        locale = locale.lower().replace("_", "-")
        if not _valid_locale(locale):
            return InvalidRow(line, "locale is not a language tag (e.g. en, fr, pt-br)")
    return Recipient(line, email, fields.get("name"), locale, fields.get("jurisdiction"), fields)


def _csv_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise InvalidInput(f"unreadable CSV header ({error})", where=f"{path.name}:1") from None
        names = [name.strip().lower() for name in header]
        if "email" not in names:
            raise InvalidInput("the header has no `email` column", where=f"{path.name}:1")
        duplicated = sorted({n for n in names if names.count(n) > 1 and n})
        if duplicated:
            raise InvalidInput(f"column(s) {', '.join(duplicated)} appear twice", where=f"{path.name}:1")
        width = len(names)
        last_line = reader.line_num
        while True:
            start = last_line + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                last_line = reader.line_num
                yield InvalidRow(start, f"unreadable CSV row ({error})")
                continue
            last_line = reader.line_num
            if not values or (len(values) == 1 and not values[0].strip()):
                continue
            if len(values) != width:
                yield InvalidRow(start, f"{len(values)} fields, the header has {width}")
                continue
            # trimmed non-empty values straight from the row (no intermediate dict: this runs per row)
            yield _checked_row(
                start, {key: value for key, raw in zip(names, values, strict=True) if (value := raw.strip())}
            )


def _jsonl_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError:
                yield InvalidRow(line_number, "not valid JSON")
                continue
            if not isinstance(item, dict):
                yield InvalidRow(line_number, "not a JSON object")
                continue
            values: dict[str, str] = {}
            bad_key = None
            for key, value in item.items():
                if value is None:
                    continue
                if isinstance(value, dict | list):
                    bad_key = key
                    break
                values[str(key).strip().lower()] = value if isinstance(value, str) else json.dumps(value)
            if bad_key is not None:
                yield InvalidRow(line_number, f"field {bad_key!r} is not a plain value")
                continue
            yield make_row(line_number, values)


def is_jsonl(path: Path) -> bool:
    if path.suffix.lower() in _JSONL_SUFFIXES:
        return True
    if path.suffix.lower() == ".csv":
        return False
    with path.open(encoding="utf-8-sig", errors="replace") as handle:  # the encoding is check_utf8's to refuse
        for line in handle:
            if line.strip():
                return line.lstrip().startswith("{")
    return False


def read_recipients(path: str | Path) -> Iterator[Row]:
    """Every row of the file, in order: `Recipient`s and `InvalidRow`s (streamed; constant memory). A file
    that is not UTF-8, or has no rows, is refused here, before the caller creates anything."""
    source = Path(path)
    if not source.is_file():
        raise InvalidInput("recipient file not found", where=str(source))
    check_utf8(source)
    jsonl = is_jsonl(source)
    rows = _jsonl_rows(source) if jsonl else _csv_rows(source)
    first = next(rows, None)  # also raises the header's problems (no email column) now
    if first is None:
        raise InvalidInput(_nothing_to_send(source, jsonl), where=f"{source.name}:1")
    return _prepend(first, rows)


def _nothing_to_send(source: Path, jsonl: bool) -> str:
    if source.stat().st_size == 0:
        return f"file {source.name} has no recipients: it is empty (0 bytes)"
    if jsonl:
        return f"file {source.name} has no recipients: it has no JSON lines"
    return f"file {source.name} has no recipients: line 1 is the header and nothing follows"


def _prepend(first: Row, rest: Iterator[Row]) -> Iterator[Row]:
    yield first
    yield from rest


def count_rows(path: str | Path) -> int:
    """A fast upper bound of the rows in the file (lines, less a CSV header), for progress display."""
    source = Path(path)
    lines = 0
    last = b"\n"
    with source.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    return max(0, lines - (0 if is_jsonl(source) else 1))
