"""Planning a notice wave (pure): which approved draft each recipient gets, its substitution values, the
message id, and the email itself.

The approved draft's subject, text and html go out byte for byte; the only per-recipient differences are
substitution tags written literally in the approved content (`-name-`, `-first_name-`), filled from the
recipient's own row. A tag is a `-word-` that stands alone (not inside a hyphenated word such as
"well-known-fact"). A row without a value for a tag its draft uses is invalid.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from tocsin.core.errors import InvalidInput
from tocsin.notifications.message import EmailMessage
from tocsin.wave.recipients import InvalidRow, Recipient

TAG = re.compile(r"(?<![\w-])-([A-Za-z][A-Za-z0-9_]*)-(?![\w-])")
MAX_TAG_VALUE = 200
_UNSAFE_VALUE = re.compile(r"[<>\x00-\x1f\x7f]")
T = TypeVar("T")
_UNKNOWN = object()
WAVE_ARG = "tocsin_wave_draft"  # custom arg naming the draft, echoed in every SendGrid event


@dataclass(frozen=True, slots=True)
class SendableContent:
    """What legal approved, exactly as it will be sent (see `wave_drafts.sendable_content`)."""

    subject: str
    text: str
    html: str | None
    locale: str
    content_sha256: str


@dataclass(frozen=True, slots=True)
class WaveDraft:
    draft_id: int
    content: SendableContent
    tags: tuple[str, ...]  # literal tags found in the content, e.g. ("-first_name-", "-name-")
    # (tag, the recipient column that fills it), e.g. ("-first_name-", "first_name"): worked out once
    tag_columns: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.tag_columns and self.tags:
            object.__setattr__(self, "tag_columns", tuple((tag, tag[1:-1].lower()) for tag in self.tags))

    @property
    def locale(self) -> str:
        return self.content.locale


# One recipient's message, before it is written as a delivery row: (line, draft id, address, name,
# jurisdiction, substitutions, message id). A plain tuple: it is built, pickled to the wave and read there
# once per recipient, and a tuple costs a tenth of a dataclass to build and a fifth to pickle. Its last six
# fields are the delivery row's QUEUED_COLUMNS (tocsin.wave.store), in order.
PlannedDelivery = tuple[int, int, str, str | None, str | None, dict[str, str], str]
LINE, DRAFT, EMAIL, NAME, JURISDICTION, SUBSTITUTIONS, MESSAGE_ID = range(7)


def content_tags(*parts: str | None) -> tuple[str, ...]:
    found = {match.group(0) for part in parts if part for match in TAG.finditer(part)}
    return tuple(sorted(found))


def wave_draft(draft_id: int, content: SendableContent) -> WaveDraft:
    return WaveDraft(draft_id, content, content_tags(content.subject, content.text, content.html))


def primary_language(locale: str) -> str:
    return locale.split("-", 1)[0]


class DraftChooser:
    """Picks each recipient's draft: their locale, else its language, else the incident's default locale."""

    def __init__(self, drafts: Sequence[WaveDraft], default_locale: str) -> None:
        self.by_locale: dict[str, WaveDraft] = {}
        for draft in drafts:
            locale = draft.locale.strip().lower().replace("_", "-")
            if locale in self.by_locale:
                other = self.by_locale[locale].draft_id
                raise InvalidInput(f"drafts {other} and {draft.draft_id} are both in locale {locale!r}; give one")
            self.by_locale[locale] = draft
        self.default_locale = default_locale.strip().lower().replace("_", "-")
        self._by_language: dict[str, WaveDraft] = {}
        for locale, draft in sorted(self.by_locale.items()):
            self._by_language.setdefault(primary_language(locale), draft)
        self._chosen: dict[str | None, WaveDraft | None] = {}

    def choose(self, locale: str | None) -> WaveDraft | None:
        known = self._chosen.get(locale, _UNKNOWN)
        if known is _UNKNOWN:  # few distinct locales in a file: work each out once
            known = self._choose(locale)
            if len(self._chosen) < 10_000:
                self._chosen[locale] = known
        return known  # type: ignore[return-value]

    def _choose(self, locale: str | None) -> WaveDraft | None:
        if locale:
            found = self.by_locale.get(locale) or self._by_language.get(primary_language(locale))
            if found is not None:
                return found
        return self.by_locale.get(self.default_locale) or self._by_language.get(primary_language(self.default_locale))


def message_id(wave_id: int, draft_id: int, line: int) -> str:
    """Tocsin's id of one delivery: the wave that first wrote the row, the draft, and the row's line in the file
    (unique, since a line yields at most one delivery). It never shows the address, and it grows with the line:
    a wave appends to the unique index on it instead of touching a random page of it per row. A rerun reuses
    the id stored in the row, so a re-send carries the same id."""
    return f"notice-{wave_id}-{draft_id}-{line:010d}"


def substitutions_for(draft: WaveDraft, fields: Mapping[str, str]) -> dict[str, str] | str:
    """Tag -> value for this recipient, or why the row cannot be sent."""
    values: dict[str, str] = {}
    for tag, column in draft.tag_columns:
        value = fields.get(column)
        if not value:
            return f"no value for {tag} (used by draft {draft.draft_id})"
        if len(value) > MAX_TAG_VALUE or _UNSAFE_VALUE.search(value):
            return f"value for {tag} is over {MAX_TAG_VALUE} characters or contains <, > or control characters"
        values[tag] = value
    return values


def plan_recipient(recipient: Recipient, chooser: DraftChooser, wave_id: int) -> PlannedDelivery | str:
    """The planned delivery for a valid row, or why it cannot be sent."""
    draft = chooser.choose(recipient.locale)
    if draft is None:
        wanted = recipient.locale or chooser.default_locale
        return f"no draft in locale {wanted!r} nor in the incident's locale {chooser.default_locale!r}"
    values = substitutions_for(draft, recipient.fields)
    if isinstance(values, str):
        return values
    line, draft_id = recipient.line, draft.draft_id
    return (
        line, draft_id, recipient.email, recipient.name, recipient.jurisdiction, values,
        message_id(wave_id, draft_id, line),
    )  # fmt: skip


def email_for(
    draft: WaveDraft,
    *,
    message_id: str,
    email: str,
    name: str | None,
    substitutions: Mapping[str, str],
    custom_args: Mapping[str, str],
) -> EmailMessage:
    content = draft.content
    return EmailMessage(
        message_id, email, content.subject, content.text, content.html, name, custom_args, {}, substitutions
    )


def custom_args_for(draft: WaveDraft, incident_ref: str) -> dict[str, str]:
    """Echoed in every SendGrid event: which incident and draft (shared by all of the draft's messages)."""
    return {"incident": incident_ref, WAVE_ARG: str(draft.draft_id)}


@dataclass(slots=True)
class ChunkPlan:
    """A chunk of rows, planned: its deliveries (one per (draft, address), in file order) and the rows that
    cannot be sent. `seq` numbers the chunks of a wave from 0, in file order."""

    seq: int
    rows: int
    planned: list[PlannedDelivery]
    invalid: list[tuple[int, str]]  # (line, reason), in file order


def plan_chunk(rows: Sequence[Recipient | InvalidRow], chooser: DraftChooser, wave_id: int, seq: int = 0) -> ChunkPlan:
    """Plan each row; a second row for the same (draft, address) in the chunk is invalid (a duplicate)."""
    first_line: dict[tuple[int, str], int] = {}
    planned: list[PlannedDelivery] = []
    invalid: list[tuple[int, str]] = []
    for row in rows:
        if row.__class__ is InvalidRow:
            invalid.append((row.line, row.reason))  # type: ignore[union-attr]
            continue
        plan = plan_recipient(row, chooser, wave_id)  # type: ignore[arg-type]
        if plan.__class__ is str:
            invalid.append((row.line, plan))  # type: ignore[arg-type]
            continue
        key = (plan[DRAFT], plan[EMAIL])  # type: ignore[index]
        if key in first_line:
            invalid.append((row.line, f"duplicate of line {first_line[key]} (same address and draft)"))
            continue
        first_line[key] = row.line
        planned.append(plan)  # type: ignore[arg-type]
    return ChunkPlan(seq, len(rows), planned, invalid)


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
