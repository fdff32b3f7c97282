"""Rendering a loaded template: pure, deterministic, and hashed.

The SHA-256 covers the exact rendered parts plus the template's name and version; legal's approval
is bound to that hash, so any change to what would be sent is a different hash.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jinja2 import TemplateError
from tocsin.templates.limits import bounded_output, render_budget
from tocsin.templates.manifest import VariableKind, VariableSpec, file_name
from tocsin.templates.problems import MissingInput, MissingInputs, Problem, TemplateInvalid

from tocsin.core.errors import InvalidInput

if TYPE_CHECKING:
    from tocsin.templates.loader import LoadedTemplate
    from tocsin.templates.manifest import Manifest

_TAGS = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Rendered:
    template: str
    template_version: str
    locale: str
    subject: str
    text: str
    html: str
    sha256: str


def content_sha256(template: str, version: str, subject: str, text: str, html: str) -> str:
    # JSON framing keeps the parts apart: moving text from one part to another changes the hash.
    framed = json.dumps([template, version, subject, text, html], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(framed.encode("utf-8")).hexdigest()


def choose_locale(
    offered: list[str],
    *,
    requested: str | None = None,
    recipient: str | None = None,
    incident: str | None = None,
) -> tuple[str, str]:
    """(locale, why): the one asked for, else the recipient's, else the incident's, else the template's
    first. A locale asked for explicitly that the template lacks is an error, not a silent fallback."""

    def match(wanted: str | None) -> str | None:
        if not wanted:
            return None
        for candidate in (wanted, wanted.split("-")[0]):
            if candidate in offered:
                return candidate
        return None

    if requested:
        found = match(requested)
        if found is None:
            raise InvalidInput(f"this template has no locale {requested!r}; it offers: {', '.join(offered)}")
        return found, "requested"
    if found := match(recipient):
        return found, "the recipient's locale"
    if found := match(incident):
        return found, "the incident's default locale"
    return offered[0], "the template's first locale: neither the recipient's nor the incident's is offered"


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | dict) and not value


def _coerce(name: str, spec: VariableSpec, value: Any) -> Any:
    if spec.kind is VariableKind.number:
        if isinstance(value, bool):
            raise InvalidInput(f"variable {name!r} must be a number, not {value!r}")
        if isinstance(value, int):
            return value
        text = str(value).strip().replace(",", "").replace("_", "")
        if text.isdigit():
            return int(text)
        return str(value).strip()  # "about 50,000" is an honest approximate number: shown as written
    if spec.kind is VariableKind.list:
        if isinstance(value, list):
            return [item.strip() if isinstance(item, str) else item for item in value if not _blank(item)]
        return [item.strip() for item in str(value).split(";") if item.strip()]
    if isinstance(value, list | dict):
        raise InvalidInput(f"variable {name!r} must be text, not a {type(value).__name__}")
    return str(value).strip() if isinstance(value, str) else value


def prepare_variables(manifest: Manifest, provided: dict[str, Any], *, hints: dict[str, str] | None = None) -> dict:
    """The complete, typed variables for a render. Every missing input is reported at once."""
    hints = hints or {}
    unknown = sorted(set(provided) - set(manifest.variables))
    if unknown:
        raise InvalidInput(
            f"unknown variable(s) for {manifest.name}: {', '.join(unknown)}; "
            f"it takes: {', '.join(sorted(manifest.variables))}"
        )
    prepared: dict[str, Any] = {}
    missing: list[MissingInput] = []
    for name, spec in manifest.variables.items():
        value = provided.get(name)
        if value is not None:
            value = _coerce(name, spec, value)
        if _blank(value):
            if spec.required:
                hint = hints.get(name, "")
                missing.append(MissingInput(name, spec.description, hint))
                continue
            value = spec.default if spec.default is not None else ([] if spec.kind is VariableKind.list else "")
        prepared[name] = value
    if missing:
        raise MissingInputs(manifest.name, missing)
    return prepared


def _render_part(
    loaded: LoadedTemplate, locale: str, part: str, context: dict[str, Any], problems: list[Problem]
) -> str:
    """Render one part; for text and HTML also note every required section that came out empty."""
    template = loaded.parts[(locale, part)]
    file = f"{loaded.manifest.name}/{file_name(locale, part)}"
    try:
        # One context for the whole part and its section blocks (as Template.render, minus the copy).
        shared = template.new_context(context)
        try:
            output = bounded_output(template.root_render_func(shared), template)
            if part != "subject":
                for section in loaded.manifest.sections:
                    body = bounded_output(template.blocks[section.name](shared), template)
                    if not _TAGS.sub("", body).strip():
                        problems.append(
                            Problem(file, None, f"required section {section.name!r} ({section.title}) is empty")
                        )
        except Exception:
            template.environment.handle_exception()  # re-raises with the template's lines in the traceback
    except TemplateError as error:
        raise TemplateInvalid([Problem(file, _line_in(error, template.filename), _describe(error))]) from None
    except (ArithmeticError, LookupError, TypeError, ValueError, RecursionError, MemoryError) as error:
        # a template's own mistake at render time (1/0, 2.0**9999, a macro calling itself): its file and line
        problem = Problem(file, _line_in(error, template.filename), f"{type(error).__name__}: {error}")
        raise TemplateInvalid([problem]) from None
    return output


def _line_in(error: BaseException, filename: str | None) -> int | None:
    """The template line an error happened on (Jinja rewrites tracebacks to point into the template)."""
    line, trace = None, error.__traceback__
    while trace is not None:
        if filename and trace.tb_frame.f_code.co_filename == filename:
            line = trace.tb_lineno
        trace = trace.tb_next
    return getattr(error, "lineno", None) or line


def _describe(error: TemplateError) -> str:
    kind = type(error).__name__
    if kind == "SecurityError":
        return f"refused by the sandbox: {error.message}"
    if kind == "UndefinedError":
        return f"undefined value: {error.message}"
    return f"{kind}: {error.message}"


def render(loaded: LoadedTemplate, locale: str, variables: dict[str, Any]) -> Rendered:
    """Render subject, text and HTML from complete variables (see `prepare_variables`)."""
    manifest = loaded.manifest
    if locale not in manifest.locales:
        raise InvalidInput(f"{manifest.name} has no locale {locale!r}; it offers: {', '.join(manifest.locales)}")
    context = {**variables, "locale": locale}
    problems: list[Problem] = []
    with render_budget():  # loop steps and wall clock for the three parts together
        subject = " ".join(_render_part(loaded, locale, "subject", context, problems).split())
        text = _render_part(loaded, locale, "txt", context, problems).strip() + "\n"
        html = _render_part(loaded, locale, "html", context, problems).strip() + "\n"
    if not subject:
        problems.insert(0, Problem(f"{manifest.name}/{file_name(locale, 'subject')}", None, "the subject is empty"))
    if problems:
        raise TemplateInvalid(problems)
    digest = content_sha256(manifest.name, manifest.version, subject, text, html)
    return Rendered(manifest.name, manifest.version, locale, subject, text, html, digest)
