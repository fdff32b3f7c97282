"""Reading the YAML or JSON documents users hand to Tocsin, with errors that name file and line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tocsin.core.errors import InvalidInput


def read_text(path: Path | str) -> tuple[str, str]:
    """(text, display name); `-` reads standard input."""
    if str(path) == "-":
        return sys.stdin.read(), "<stdin>"
    file = Path(path)
    try:
        return file.read_text(encoding="utf-8"), str(file)
    except FileNotFoundError:
        raise InvalidInput("file not found", where=str(file)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"cannot read: {error}", where=str(file)) from None


def parse_document(text: str, name: str) -> Any:
    """Parse YAML (a superset of JSON); a syntax error names the line and column."""
    if name.endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise InvalidInput(f"invalid JSON: {error.msg}", where=f"{name}:{error.lineno}:{error.colno}") from None
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str, *, load: Callable[[str], Any] = yaml.safe_load) -> Any:
    """Parse YAML, or JSON read as YAML, with `load` (e.g. a loader that keeps line marks); a syntax error names
    the line and column."""
    try:
        return load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise InvalidInput(f"invalid YAML or JSON: {error.problem}", where=where) from None
    except yaml.YAMLError as error:
        raise InvalidInput(f"invalid YAML or JSON: {error}", where=name) from None


def load_mapping(path: Path | str) -> tuple[dict[str, Any], str]:
    text, name = read_text(path)
    document = parse_document(text, name)
    if not isinstance(document, dict):
        raise InvalidInput("expected a mapping of keys to values at the top level", where=name)
    return document, name
