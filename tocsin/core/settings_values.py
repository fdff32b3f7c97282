"""Checks of single setting values while the settings load, so that a bad one stops every command (and
`tocsin serve` before it listens) with one line naming its variable, instead of failing later, deep inside.

Each check raises `ValueError` with a message that never quotes the value (it may be a secret); pydantic turns
it into a validation error of that setting, which `settings_errors` reports.
"""

from __future__ import annotations

import json
import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

_STRUCTURED = (list, dict, set, tuple, frozenset)
_BACKENDS = ("postgresql", "sqlite")
_URL_EXAMPLES = "postgresql://tocsin@db.internal:5432/tocsin or sqlite:////var/lib/tocsin/tocsin.db"


def _without_none(annotation: Any) -> Any:
    """`list[str] | None` → `list[str]`; other annotations unchanged."""
    if get_origin(annotation) in (Union, types.UnionType):
        kept = [arg for arg in get_args(annotation) if arg is not type(None)]
        return kept[0] if len(kept) == 1 else annotation
    return annotation


def is_structured(annotation: Any) -> bool:
    """True for a list or map setting, which the environment and `.env` give as JSON text."""
    bare = _without_none(annotation)
    origin = get_origin(bare) or bare
    return origin in _STRUCTURED or (isinstance(origin, type) and issubclass(origin, BaseModel))


def _example(annotation: Any) -> str:
    """A short JSON example of the shape `annotation` expects: `[1]`, `["a"]`, `{"key": ["a"]}`."""
    bare = _without_none(annotation)
    origin, args = get_origin(bare) or bare, get_args(bare)
    if origin is dict:
        value = _example(args[1]) if len(args) == 2 else '"value"'
        return f'{{"key": {value}}}'
    if origin in _STRUCTURED:
        return f"[{_example(args[0]) if args else '1'}]"
    if origin in (int, float):
        return "1"
    if origin is bool:
        return "true"
    return '"a"'


def decode_json(value: Any, annotation: Any) -> Any:
    """A list or map setting given as text (TOCSIN_REMINDER_LEAD_HOURS='[48, 24]') decoded from JSON; other
    values unchanged. Decoded here rather than in pydantic-settings' sources, whose error names neither the
    variable nor what is wrong."""
    if not isinstance(value, str) or not is_structured(annotation):
        return value
    try:
        return json.loads(value)
    except ValueError as error:  # the decoder's message gives the position, never the text
        kind = "map (a JSON object)" if get_origin(_without_none(annotation)) is dict else "list (a JSON array)"
        raise ValueError(f"not valid JSON ({error}); expected a {kind} such as {_example(annotation)}") from None


def check_database_url(url: str) -> None:
    """Refuse a database URL SQLAlchemy cannot parse, a database other than PostgreSQL or SQLite, an unknown or
    missing driver, or a port out of range."""
    from sqlalchemy.engine import make_url  # SQLAlchemy only when a URL is set (client-mode start-up time)
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"not a database URL; expected e.g. {_URL_EXAMPLES}") from None
    except ValueError:  # a port that is not a number
        raise ValueError("the port is not a number") from None
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise ValueError(f"port {parsed.port} is out of range (1-65535)")
    # `postgres://` is accepted as PostgreSQL (tocsin.db.engine.normalise_url), though SQLAlchemy has no such name.
    known = parsed.set(drivername="postgresql") if parsed.drivername == "postgres" else parsed
    if known.get_backend_name() not in _BACKENDS:
        raise ValueError(f"{parsed.drivername!r} is not a database Tocsin runs on; expected e.g. {_URL_EXAMPLES}")
    try:
        dialect = known.get_dialect()
    except NoSuchModuleError:
        raise ValueError(f"unknown database driver {parsed.drivername!r}; expected e.g. {_URL_EXAMPLES}") from None
    if "+" in parsed.drivername:  # a driver named explicitly must be installed (the default one always is)
        try:
            dialect.import_dbapi()
        except ImportError as error:
            raise ValueError(f"the driver of {parsed.drivername!r} is not installed ({error})") from None


def check_sendgrid_public_key(key: str) -> None:
    """Refuse a SendGrid Event Webhook key that is not a base64 ECDSA public key."""
    # cryptography only when a key is set (start-up time of every other command)
    from tocsin.notifications.sendgrid_events import load_public_key

    load_public_key(key)
