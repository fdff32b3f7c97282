"""Parsing the text of Tocsin's slash command, e.g. `/tocsin declare --title "DB exposed" --severity SEV2`.

Pure. Errors raise `CommandError`, whose text is meant to be shown to the user as an ephemeral message.
Slack clients often turn quotes into typographic ones; those are read as plain quotes.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
USAGE = (
    'Usage: `/tocsin declare --title "What happened" [--severity SEV1|SEV2|SEV3|SEV4] '
    '[--summary "..."] [--kind breach|outage|...] [--drill]`'
)
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})


class CommandError(ValueError):
    """A usage error; `str(error)` is the message for the user."""


@dataclass(frozen=True, slots=True)
class DeclareCommand:
    title: str
    severity: str = "SEV3"
    summary: str | None = None
    kind: str | None = None
    drill: bool = False


_DECLARE_OPTIONS = {"--title", "--severity", "--summary", "--kind"}
_DECLARE_FLAGS = {"--drill"}


def _options(words: list[str]) -> dict[str, str | bool]:
    values: dict[str, str | bool] = {}
    index = 0
    while index < len(words):
        word = words[index]
        name, has_equals, inline = word.partition("=")
        if name in _DECLARE_FLAGS and not has_equals:
            values[name] = True
            index += 1
            continue
        if name not in _DECLARE_OPTIONS:
            raise CommandError(f"Unknown option `{word}`. {USAGE}")
        if name in values:
            raise CommandError(f"`{name}` is given twice. {USAGE}")
        if has_equals:
            values[name] = inline
            index += 1
            continue
        if index + 1 >= len(words) or words[index + 1].startswith("--"):
            raise CommandError(f"`{name}` needs a value. {USAGE}")
        values[name] = words[index + 1]
        index += 2
    return values


def parse_declare(words: list[str]) -> DeclareCommand:
    values = _options(words)
    title = str(values.get("--title") or "").strip()
    if not title:
        raise CommandError(f"`--title` is required. {USAGE}")
    severity = str(values.get("--severity") or "SEV3").strip().upper()
    if severity.isdigit():
        severity = f"SEV{severity}"
    if severity not in SEVERITIES:
        raise CommandError(f"Severity must be one of {', '.join(SEVERITIES)} (got `{values['--severity']}`).")
    summary = values.get("--summary")
    kind = values.get("--kind")
    return DeclareCommand(
        title=title,
        severity=severity,
        summary=str(summary).strip() or None if summary else None,
        kind=str(kind).strip().lower() or None if kind else None,
        drill=bool(values.get("--drill")),
    )


def parse_command(text: str) -> tuple[str, DeclareCommand | None]:
    """(subcommand, parsed arguments). `help` or empty text -> CommandError carrying the usage."""
    try:
        words = shlex.split(text.translate(_QUOTES))
    except ValueError as error:
        raise CommandError(f"Could not read the command ({error}). {USAGE}") from None
    if not words or words[0] in {"help", "--help", "-h"}:
        raise CommandError(USAGE)
    name, rest = words[0].lower(), words[1:]
    if name == "declare":
        return name, parse_declare(rest)
    raise CommandError(f"Unknown subcommand `{words[0]}`. {USAGE}")
