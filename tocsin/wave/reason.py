"""A decision about rows held in doubt says why (kept on the timeline). A module of its own, with no database
import, so that the CLI can refuse an empty reason before it calls a server (client mode)."""

from __future__ import annotations

from tocsin.core.errors import InvalidInput


def decision_reason(reason: str, *, where: str) -> str:
    """The reason, trimmed; refused when empty, naming the field as the door that asks for it calls it
    (`reason` in the API and the console, `--reason` in the CLI)."""
    given = reason.strip()
    if not given:
        raise InvalidInput("say why: the decision is kept on the timeline", where=where)
    return given
