"""Errors that Tocsin reports to its users as one clear line (never a traceback).

Every error says what is wrong and where: a file, a line, a field, an incident id.
"""

from __future__ import annotations


class TocsinError(Exception):
    """Base class. `exit_code` is what the CLI exits with."""

    exit_code = 1

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class InvalidInput(TocsinError):
    """Bad input: refused before anything is written or sent."""

    exit_code = 2


class NotFound(TocsinError):
    exit_code = 2


class Conflict(TocsinError):
    """Someone else changed the record first (optimistic version check)."""

    exit_code = 3


class Forbidden(TocsinError):
    """The person lacks the role the action needs."""

    exit_code = 4
