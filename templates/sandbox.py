"""The Jinja2 environment every template runs in: sandboxed (templates are user-editable data),
strict about undefined variables (a missing value is an error, never a blank), and autoescaping
the HTML parts only."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape
from tocsin.templates.limits import BoundedSandbox

# Thousands separators as each language writes them (no Babel needed for whole numbers).
_GROUPING = {"en": ",", "de": ".", "fr": "\u202f", "es": ".", "it": ".", "nl": "."}
_BLANK_LINES = re.compile(r"\n\s*\n")


@pass_context
def number(context: Context, value: Any) -> str:
    """A whole number grouped the way the template's language writes it; other values unchanged."""
    if isinstance(value, bool) or not isinstance(value, int):
        return str(value)
    language = str(context.get("locale", "en")).split("-")[0]
    return f"{value:,}".replace(",", _GROUPING.get(language, ","))


@pass_context
def paragraphs(context: Context, value: Any) -> Markup | str:
    """Multi-line text as HTML paragraphs (escaped first) in HTML parts; unchanged in text parts."""
    text = str(value).strip()
    if not context.eval_ctx.autoescape:
        return text
    escaped = str(escape(text))  # escaped once; the tags added below are the only markup
    blocks = [block.strip() for block in _BLANK_LINES.split(escaped) if block.strip()]
    return Markup("\n".join("<p>" + "<br>\n".join(block.split("\n")) + "</p>" for block in blocks))


def make_environment(root: Path) -> ImmutableSandboxedEnvironment:
    """The immutable sandbox, bounded in size, loops and time (tocsin.templates.limits)."""
    environment = BoundedSandbox(
        loader=FileSystemLoader(str(root)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    environment.add_filter("number", number)
    environment.add_filter("paragraphs", paragraphs)
    return environment


# Names a template may use without declaring them: Jinja's own globals plus what rendering adds.
BUILTIN_NAMES = frozenset({"range", "dict", "lipsum", "cycler", "joiner", "namespace", "loop", "locale", "self"})
