"""The fields of the launch-playbook form: what kind of field each playbook input is, and checking typed values.

A playbook input has a name and a description; what kind of value it takes comes from the rest of Tocsin:
- the input a `notice_wave` step reads its recipients from (`recipients_input`) is a recipients file (CSV or
  JSONL), and `mentions` in a playbook with a `watch_sentiment` step is a JSONL mentions file: both are uploads;
- an input that fills a template variable declared `kind: number` (the templates' template.yaml) is a whole
  number, `kind: list` a `;`-separated list;
- an input the playbook declares `kind: email` is an email address;
- anything else is free text.
Pure functions, except `variable_kinds`, which reads the template manifests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tocsin.flows.launch_files import file_inputs
from tocsin.templates.loader import available, read_manifest

from tocsin.wave.recipients import email_problem, normalise_email

FILE_KINDS = ("recipients", "mentions")
ACCEPT = {"recipients": ".csv,.jsonl,.ndjson,text/csv", "mentions": ".jsonl,.ndjson,.json"}
_TEMPLATE_FIELDS = ("template", "brief", "message")
_WORDS = {"approx": "approximate", "num": "number"}
_SEPARATORS = str.maketrans("", "", ",_ \u00a0\u202f'")


@dataclass(frozen=True)
class InputField:
    name: str
    label: str  # human words; the identifier is shown beside it in small type
    help: str
    required: bool
    widget: str  # text | textarea | number | email | list | file
    file_kind: str | None = None  # recipients | mentions, for widget == "file"

    @property
    def accept(self) -> str:
        return ACCEPT.get(self.file_kind or "", "")


def human_label(name: str) -> str:
    """`approx_records` -> "Approximate records", `regulator_email` -> "Regulator email"."""
    words = [_WORDS.get(word, word) for word in name.replace("-", "_").split("_") if word]
    text = " ".join(words) or name
    return text[:1].upper() + text[1:]


def template_names(playbook: Any) -> list[str]:
    names = [getattr(step, field, None) for step in playbook.steps for field in _TEMPLATE_FIELDS]
    return sorted({name for name in names if isinstance(name, str)})


def variable_kinds(playbook: Any) -> dict[str, str]:
    """Variable name -> kind (text | number | list) over the templates the playbook renders; a template that
    cannot be read is skipped here (launching reports it)."""
    roots = available()
    kinds: dict[str, str] = {}
    for name in template_names(playbook):
        if name not in roots:
            continue
        manifest, _problems = read_manifest(roots[name], name)
        if manifest is not None:
            for variable, spec in manifest.variables.items():
                if kinds.get(variable, "text") == "text":
                    kinds[variable] = spec.kind.value
    return kinds


def input_fields(playbook: Any, kinds: dict[str, str]) -> list[InputField]:
    """The form's fields for the playbook's inputs, in the playbook's order (pure)."""
    files = file_inputs(playbook)
    fields = []
    for spec in playbook.inputs:
        file_kind = files.get(spec.name)
        if file_kind is not None:
            widget = "file"
        elif spec.kind == "email":
            widget = "email"
        elif kinds.get(spec.name) in ("number", "list"):
            widget = kinds[spec.name]
        else:
            widget = "textarea"
        label = human_label(spec.name)
        fields.append(InputField(spec.name, label, spec.description, spec.required, widget, file_kind))
    return fields


def whole_number(value: str) -> str | None:
    """`112000`, `112,000`, `112 000` -> "112000"; None when it is not a whole number."""
    digits = value.translate(_SEPARATORS)
    return digits if digits.isascii() and digits.isdigit() else None


Problems = dict[str, list[str]]  # input name -> what is wrong with it


def check_values(fields: list[InputField], values: dict[str, str]) -> tuple[dict[str, str], Problems]:
    """The typed (non-file) values, normalised, and what is wrong with them by input name (empty: all good).
    A required input left empty is a problem; a file input given as text is refused (files are uploaded)."""
    by_name = {field.name: field for field in fields}
    checked: dict[str, str] = {}
    problems: Problems = {}
    for name, raw in values.items():
        value = raw.strip()
        field = by_name.get(name)
        if not value or field is None:
            if value:
                checked[name] = value  # unknown: the launch service names it
            continue
        problem = None
        if field.widget == "file":
            problem = f"upload the {field.file_kind} file on the launch page (a path typed here is not accepted)"
        elif field.widget == "number":
            number = whole_number(value)
            problem = None if number is not None else f"{value[:40]!r} is not a whole number"
            value = number or value
        elif field.widget == "email":
            value = normalise_email(value)
            problem = email_problem(value)
        if problem is None:
            checked[name] = value
        else:
            problems.setdefault(name, []).append(problem)
    for field in fields:
        if field.required and field.widget != "file" and field.name not in checked and field.name not in problems:
            problems.setdefault(field.name, []).append("required")
    return checked, problems


def as_lines(problems: Problems) -> str:
    """`name: problem; name: problem` for one-line messages."""
    return "; ".join(f"{name}: {text}" for name, texts in problems.items() for text in texts)
