"""Drafting external messages from templates: `tocsin draft ID TEMPLATE`, `tocsin drafts ID`,
`tocsin draft show|edit|mark-sent DRAFT`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from tocsin.cli.app import app
from tocsin.cli.output import AS_OPTION, JSON_OPTION, console, print_json


class DraftGroup(TyperGroup):
    """`tocsin draft 12 regulator_notice` means `tocsin draft new 12 regulator_notice`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["new", *args]
        return super().parse_args(ctx, args)


draft_app = typer.Typer(
    cls=DraftGroup,
    no_args_is_help=True,
    help="Draft a message from a template (`tocsin draft ID TEMPLATE`), or show / edit / mark-sent a draft.",
)
app.add_typer(draft_app, name="draft")

VAR_OPTION = typer.Option(
    None, "--var", help="An input as key=value (repeatable); a list is separated by ';'; @FILE reads the value."
)
VARS_OPTION = typer.Option(None, "--vars", help="YAML/JSON file of inputs (key: value).")


def collect_inputs(pairs: list[str] | None, file: Path | None) -> dict[str, Any]:
    from tocsin.core.documents import load_mapping, read_text
    from tocsin.core.errors import InvalidInput
    from tocsin.templates.manifest import IDENTIFIER

    inputs: dict[str, Any] = {}
    if file is not None:
        inputs.update(load_mapping(file)[0])
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not IDENTIFIER.match(key):
            raise InvalidInput(f"--var {pair!r} is not key=value (the key in lower case, like measures_taken)")
        inputs[key] = read_text(value[1:])[0].strip() if value.startswith("@") else value
    return inputs


def _print_missing(error: Any) -> None:
    print(f"error: {error.template} cannot be drafted yet; it needs these inputs:", file=sys.stderr)
    for item in error.missing:
        print(f"  - {item.name}: {item.description}", file=sys.stderr)
        if item.hint:
            print(f"      ({item.hint})", file=sys.stderr)
    print("Give them with --var key=value (repeatable) or --vars FILE.yaml. Nothing was written.", file=sys.stderr)


@draft_app.command("new")
def new(
    incident: Annotated[str, typer.Argument(help="Incident id (12 or INC-12).")],
    template: Annotated[str, typer.Argument(help="Template name (see `tocsin templates`).")],
    locale: Annotated[
        str | None, typer.Option("--locale", help="Language (default: recipient's, else incident's).")
    ] = None,
    recipient: Annotated[
        str | None, typer.Option("--recipient", help="Person the message is for: their locale picks the language.")
    ] = None,
    variables: list[str] | None = VAR_OPTION,
    variables_file: Path | None = VARS_OPTION,
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Render a draft from a template and the incident's facts (`tocsin draft ID TEMPLATE`)."""
    from tocsin.cli.gateway import open_gateway
    from tocsin.core.ids import parse_incident_id
    from tocsin.templates.problems import MissingInputs

    gateway = open_gateway(actor)
    incident_id = parse_incident_id(incident)
    inputs = collect_inputs(variables, variables_file)
    try:
        data = gateway.create_draft(incident_id, template.strip(), inputs=inputs, locale=locale, recipient=recipient)
    except MissingInputs as error:
        _print_missing(error)
        raise typer.Exit(error.exit_code) from None
    if json_output:
        print_json(data)
        return
    reason = f" ({data['locale_reason']})" if data.get("locale_reason") else ""
    made = f"{data['template']} v{data['template_version']} in {data['locale']}{reason}"
    console.print(f"[bold]{data['ref']}[/] drafted from {made}")
    console.print(f"sha256 {data['sha256']}\n")
    console.print(f"Subject: {data['subject']}\n", markup=False)
    console.print(data["text"], markup=False)
    console.print(f"Next: `tocsin review {data['id']}`, then legal: `tocsin approve {data['id']}`")


@app.command("drafts")
def list_drafts(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    json_output: bool = JSON_OPTION,
) -> None:
    """The drafts of an incident, oldest first."""
    from rich.table import Table

    from tocsin.cli.gateway import open_gateway
    from tocsin.core.ids import parse_incident_id

    rows = open_gateway().drafts(parse_incident_id(incident))
    if json_output:
        print_json(rows)
        return
    if not rows:
        console.print("No drafts yet. Start one with `tocsin draft ID TEMPLATE` (see `tocsin templates`).")
        return
    table = Table()
    for heading in ("Draft", "Template", "Locale", "Status", "Rev", "sha256", "By"):
        table.add_column(heading, no_wrap=True)
    for row in rows:
        table.add_row(
            row["ref"],
            row["template"],
            row["locale"],
            row["status"],
            str(row["revision"]),
            row["sha256"][:12],
            row["drafted_by"],
        )
    console.print(table)


@draft_app.command("show")
def show(
    draft: Annotated[str, typer.Argument(help="Draft id (7 or D-7).")],
    part: Annotated[
        str | None, typer.Option("--part", help="Print only this part, raw: subject, text or html (for editing).")
    ] = None,
    revision: Annotated[int | None, typer.Option("--revision", help="An earlier revision (default: current).")] = None,
    json_output: bool = JSON_OPTION,
) -> None:
    """A draft's content, its decision and whether it may be sent, and the diff against the previous revision."""
    from tocsin.cli.gateway import open_gateway
    from tocsin.core.errors import InvalidInput
    from tocsin.core.ids import parse_draft_id

    if part is not None and part not in ("subject", "text", "html"):
        raise InvalidInput(f"--part {part!r}: one of subject, text, html")
    data = open_gateway().draft(parse_draft_id(draft), revision=revision)
    if part is not None:
        sys.stdout.write(data[part])
        return
    if json_output:
        print_json(data)
        return
    _render(data)


def _render(data: dict[str, Any]) -> None:
    decision = data["decision"]
    console.print(
        f"[bold]{data['ref']}[/] ({data['incident']})  {data['template']} v{data['template_version']}  "
        f"{data['locale']}  {data['audience']}/{data['channel']}  status: [bold]{data['status']}[/]"
    )
    console.print(f"Revision {data['shown_revision']} of {data['revision']}; drafted by {data['drafted_by']}")
    console.print(f"sha256 {data['sha256']}")
    if decision["decision"]:
        applies = "on the current content" if decision["current"] else "on an earlier revision: superseded"
        comment = f": {decision['comment']}" if decision["comment"] else ""
        console.print(
            f"Decision: {decision['decision']} by {decision['decided_by']} at {decision['decided_at']} "
            f"({applies}){comment}",
            markup=False,
        )
    sendable = "yes" if decision["sendable"] else f"no ({decision['reason']})"
    console.print(f"May be sent: {sendable}\n", markup=False)
    console.print(f"Subject: {data['subject']}\n", markup=False)
    console.print(data["text"], markup=False)
    changed = {p: d for p, d in data["diff"].items() if d}
    if not data["diff"]:
        console.print("(first revision: nothing to compare)")
    elif not changed:
        console.print("(no change from the previous revision)")
    for part, diff in changed.items():
        console.print(f"[bold]Changes to the {part} since the previous revision[/]")
        console.print(diff, markup=False, highlight=False)


@draft_app.command("edit")
def edit(
    draft: Annotated[str, typer.Argument(help="Draft id.")],
    file: Annotated[Path | None, typer.Option("--file", help="New content for one part (see --part).")] = None,
    part: Annotated[
        str | None, typer.Option("--part", help="text or html (default: html for .html files, else text).")
    ] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="A new subject line.")] = None,
    variables: list[str] | None = VAR_OPTION,
    variables_file: Path | None = VARS_OPTION,
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Change a draft: by hand (--file, --subject) or by re-rendering with new inputs (--var, --vars).
    An approved draft goes back to review."""
    from tocsin.cli.gateway import open_gateway
    from tocsin.core.documents import read_text
    from tocsin.core.errors import InvalidInput
    from tocsin.core.ids import parse_draft_id
    from tocsin.templates.problems import MissingInputs

    gateway = open_gateway(actor)
    draft_id = parse_draft_id(draft)
    changes: dict[str, str] = {}
    if subject is not None:
        changes["subject"] = subject
    if file is not None:
        target = part or ("html" if file.suffix.lower() in (".html", ".htm") else "text")
        if target not in ("text", "html"):
            raise InvalidInput(f"--part {target!r}: one of text, html (use --subject for the subject)")
        changes[target] = read_text(file)[0]
    inputs = collect_inputs(variables, variables_file) if (variables or variables_file) else None
    try:
        data = gateway.edit_draft(draft_id, inputs=inputs, **changes)
    except MissingInputs as error:
        _print_missing(error)
        raise typer.Exit(error.exit_code) from None
    if json_output:
        print_json(data)
        return
    console.print(
        f"[bold]{data['ref']}[/] is now revision {data['revision']} (sha256 {data['sha256'][:12]}), "
        f"status {data['status']}. See the changes with `tocsin draft show {data['id']}`."
    )


@draft_app.command("mark-sent")
def mark_sent(
    draft: Annotated[str, typer.Argument(help="Draft id.")],
    reference: Annotated[
        str | None, typer.Option("--reference", help="Where it went, e.g. the regulator portal's receipt number.")
    ] = None,
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Record that an approved draft was sent (e.g. submitted through a regulator's web form).
    Refused unless legal approved exactly the current content."""
    from tocsin.cli.gateway import open_gateway
    from tocsin.core.ids import parse_draft_id

    data = open_gateway(actor).mark_sent(parse_draft_id(draft), reference=reference)
    if json_output:
        print_json(data)
        return
    console.print(f"[bold]{data['ref']}[/] recorded as sent by {data['sent_by']} (sha256 {data['sha256']})")
