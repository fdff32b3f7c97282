"""Playbooks: `tocsin playbooks`, `tocsin playbook check|show|resume`, `tocsin launch`, `tocsin runs`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tocsin.cli.app import app
from tocsin.cli.output import AS_OPTION, JSON_OPTION, console, print_json

playbook_app = typer.Typer(help="Check, inspect and resume playbooks.", no_args_is_help=True)
app.add_typer(playbook_app, name="playbook")

INPUT_OPTION = typer.Option(None, "--input", "-i", help="A playbook input as NAME=VALUE (repeatable).")
INPUTS_FILE = typer.Option(None, "--inputs", help="YAML/JSON file of playbook inputs.")


def parse_inputs(pairs: list[str] | None, file: Path | None) -> dict[str, str]:
    from tocsin.core.documents import load_mapping
    from tocsin.core.errors import InvalidInput

    values: dict[str, str] = {}
    if file is not None:
        document, _name = load_mapping(file)
        values.update({str(k): v for k, v in document.items()})
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"--input {pair!r} is not NAME=VALUE")
        values[name.strip()] = value
    return values


@app.command("playbooks")
def list_playbooks(json_output: bool = JSON_OPTION) -> None:
    """The built-in playbooks."""
    from rich.table import Table

    from tocsin.playbooks.loader import built_in_paths, load_playbook_file

    rows = []
    for name, path in built_in_paths().items():
        playbook = load_playbook_file(path)
        rows.append(
            {
                "name": name,
                "version": playbook.version,
                "kind": playbook.kind.value,
                "title": playbook.title,
                "steps": len(playbook.steps),
                "file": str(path),
            }
        )
    if json_output:
        print_json(rows)
        return
    table = Table("Name", "Version", "Kind", "Steps", "Title")
    for row in rows:
        table.add_row(row["name"], str(row["version"]), row["kind"], str(row["steps"]), row["title"])
    console.print(table)


@playbook_app.command("check")
def check(file: Annotated[Path, typer.Argument(help="A playbook YAML file.")], json_output: bool = JSON_OPTION) -> None:
    """Validate a playbook file: schema, conditions, templates, rule ids. Exit 2 with file:line on error."""
    from tocsin.playbooks.loader import load_playbook_file

    playbook = load_playbook_file(file)
    if json_output:
        print_json({"ok": True, "name": playbook.name, "version": playbook.version, "steps": len(playbook.steps)})
    else:
        console.print(f"{file}: playbook {playbook.name} v{playbook.version} is valid ({len(playbook.steps)} steps)")


@playbook_app.command("show")
def show_playbook(
    name: Annotated[str, typer.Argument(help="Built-in name or file.")], json_output: bool = JSON_OPTION
) -> None:
    """The steps of a playbook."""
    from rich.table import Table

    from tocsin.playbooks.loader import get_playbook

    playbook = get_playbook(name)
    if json_output:
        print_json(playbook.model_dump(mode="json", by_alias=True, exclude_none=True))
        return
    console.print(f"[bold]{playbook.name}[/] v{playbook.version} ({playbook.kind.value}): {playbook.title}")
    table = Table("#", "Step", "Type", "What", "When")
    for number, step in enumerate(playbook.steps, start=1):
        condition = step.when.model_dump(by_alias=True, exclude_none=True) if step.when else ""
        table.add_row(str(number), step.id, step.type, step.title or "", str(condition))
    console.print(table)


@app.command()
def launch(
    playbook: Annotated[str, typer.Argument(help="Built-in playbook name or a playbook file.")],
    incident: Annotated[str, typer.Option("--incident", help="Incident id.")],
    inputs: list[str] | None = INPUT_OPTION,
    inputs_file: Path | None = INPUTS_FILE,
    wait: Annotated[bool, typer.Option("--wait", help="Run the Prefect phase in the foreground.")] = False,
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Launch a playbook on an incident: urgent steps now, the rest as a Prefect flow."""
    from tocsin.cli.gateway import open_gateway
    from tocsin.core.ids import parse_incident_id

    gateway = open_gateway(actor)
    data = gateway.launch(parse_incident_id(incident), playbook, parse_inputs(inputs, inputs_file), wait=wait)
    if json_output:
        print_json(data)
    else:
        console.print(f"Playbook {playbook} launched on INC-{data['incident']} (run {data['run']}): {data['urgent']}")
        console.print(f"Then: {data['handed_to']}. Progress: `tocsin runs {data['incident']}`")


@playbook_app.command("resume")
def resume(
    run: Annotated[int, typer.Argument(help="Playbook run id.")],
    here: Annotated[bool, typer.Option("--here", help="Run the phase in this process (embedded Prefect).")] = False,
) -> None:
    """Start the next phase of a playbook run (after a wait, a crash or a restart)."""
    from tocsin.cli.gateway import require_local

    require_local("playbook resume")
    from tocsin.flows.launch import dispatch

    console.print(dispatch(run, wait=here))


@app.command("runs")
def runs(incident: Annotated[str, typer.Argument(help="Incident id.")], json_output: bool = JSON_OPTION) -> None:
    """Playbook runs on an incident and the state of every step."""
    from tocsin.cli.gateway import open_gateway
    from tocsin.cli.render import render_runs
    from tocsin.core.ids import parse_incident_id

    data = open_gateway().runs(parse_incident_id(incident))
    if json_output:
        print_json(data)
    else:
        render_runs(data)


@app.command("tasks")
def tasks(incident: Annotated[str, typer.Argument(help="Incident id.")], json_output: bool = JSON_OPTION) -> None:
    """Checklist tasks on an incident, with their due times."""
    from rich.table import Table

    from tocsin.cli.gateway import open_gateway
    from tocsin.cli.output import display_zone
    from tocsin.cli.render import local_or_dash
    from tocsin.core.ids import parse_incident_id

    rows = open_gateway().tasks(parse_incident_id(incident))
    if json_output:
        print_json(rows)
        return
    zone = display_zone()
    table = Table("ID", "Role", "Task", f"Due ({zone})", "Done")
    for row in rows:
        due = local_or_dash(row["due"], zone, dash="")
        table.add_row(str(row["id"]), row["role"], row["title"], due, row["done_by"] or "")
    console.print(table)


@app.command("task")
def task_done(
    action: Annotated[str, typer.Argument(help="done")],
    task_id: Annotated[int, typer.Argument(help="Task id (see `tocsin tasks`).")],
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Mark a checklist task done: `tocsin task done 12` (the task's role, or the commander)."""
    from tocsin.cli.gateway import open_gateway
    from tocsin.core.errors import InvalidInput

    if action != "done":
        raise InvalidInput(f"unknown task action {action!r}; use `tocsin task done ID`")
    data = open_gateway(actor).task_done(task_id)
    if json_output:
        print_json(data)
    else:
        console.print(f"task {data['task']} done: {data['title']}")


@playbook_app.command("input")
def give_input(
    run: Annotated[int, typer.Argument(help="Playbook run id (see `tocsin runs`).")],
    pairs: Annotated[list[str], typer.Argument(help="NAME=VALUE pairs.")],
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Give a waiting playbook run the inputs it asks for, and let it continue."""
    from tocsin.cli.gateway import open_gateway

    gateway = open_gateway(actor)
    data = gateway.playbook_input(run, parse_inputs(pairs, None))
    if json_output:
        print_json(data)
    else:
        console.print(f"inputs saved on run {data['run']} ({data['incident']})")
