"""Invalid settings said as one line per bad setting: which environment variable or tocsin.toml key, its value
(never a secret's), and what is wrong, instead of pydantic's report and its documentation URL."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic_core import ValidationError

from tocsin.core.errors import InvalidInput
from tocsin.core.redact import redact_text
from tocsin.core.settings_values import is_structured

_SHOWN_VALUE = 80


class SettingsInvalid(InvalidInput):
    """One or more settings are invalid; the message has one line per bad setting."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def _is_secret(model: type[BaseModel], name: str) -> bool:
    field = model.model_fields.get(name)
    return (field is not None and "SecretStr" in str(field.annotation)) or name.endswith(("_key", "_token"))


def _source(model: type[BaseModel], name: str, toml: Path | None) -> str:
    """Where the bad value came from: the environment, else the TOML file (or a .env file)."""
    variable = f"{model.model_config.get('env_prefix', '')}{name}".upper()
    if variable in os.environ:
        return f"environment variable {variable}"
    if toml is not None and toml.is_file():
        return f"{toml} key {name!r} (or {variable} in .env)"
    return f"{variable} (in .env)"


def _is_structured(model: type[BaseModel], name: str) -> bool:
    field = model.model_fields.get(name)
    return field is not None and is_structured(field.annotation)


def _shown(model: type[BaseModel], name: str, value: Any) -> str:
    if _is_secret(model, name) or _is_structured(model, name) or isinstance(value, SecretStr | dict | list):
        return ""
    text = str(value)
    if "://" in text and "@" in text:  # a URL with credentials, maybe too malformed for redact_text to find them
        return ""
    return f"={redact_text(text)[:_SHOWN_VALUE]}"


def _message(problem: Any) -> str:
    """Pydantic's message; a check's own `ValueError` without pydantic's "Value error, " in front."""
    error = (problem.get("ctx") or {}).get("error")
    text = str(error) if problem.get("type") == "value_error" and error is not None else problem.get("msg")
    return redact_text(str(text or "invalid value"))


def settings_problems(error: ValidationError, model: type[BaseModel], toml: Path | None) -> list[str]:
    """One line per invalid setting, e.g. `environment variable TOCSIN_RECIPIENT_RETENTION_DAYS=0: Input should
    be greater than or equal to 1 (setting recipient_retention_days)`."""
    lines: list[str] = []
    for problem in error.errors(include_url=False):
        location = [str(step) for step in problem.get("loc", ())]
        name = location[0] if location else "(settings)"
        inner = "".join(f"[{step}]" for step in location[1:])
        message = _message(problem)
        shown = _shown(model, name, problem.get("input"))
        lines.append(f"{_source(model, name, toml)}{inner}{shown}: {message} (setting {name})")
    return lines


def config_file_problem(toml: Path | None) -> str | None:
    """TOCSIN_CONFIG naming a file that is not there (pydantic-settings would silently read nothing)."""
    if toml is None or toml.is_file():
        return None
    return (
        f"environment variable TOCSIN_CONFIG={toml}: no such file "
        "(unset it to use ./tocsin.toml or $TOCSIN_HOME/tocsin.toml)"
    )


def source_problem(error: Exception, toml: Path | None) -> str:
    """One line for a settings source that could not be read at all: the TOML file (its parser gives the line and
    column, never the text), or whatever else pydantic-settings refuses before validation."""
    if isinstance(error, tomllib.TOMLDecodeError | UnicodeDecodeError):
        reason = "not UTF-8 text" if isinstance(error, UnicodeDecodeError) else f"not valid TOML: {error}"
        return f"{toml}: {reason}"
    cause = f" ({type(error.__cause__).__name__})" if error.__cause__ is not None else ""
    return f"settings: {redact_text(str(error))}{cause}"
