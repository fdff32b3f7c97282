"""The notice templates: `tocsin templates` lists them, `tocsin template check [PATH]` validates them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tocsin.cli.app import app
from tocsin.cli.output import JSON_OPTION, console, print_json

template_app = typer.Typer(help="Check notice templates (yours or the built-in ones).", no_args_is_help=True)
app.add_typer(template_app, name="template")


@app.command("templates")
def list_templates(json_output: bool = JSON_OPTION) -> None:
    """The templates a draft can start from (TOCSIN_TEMPLATES_DIR first, then the built-in ones)."""
    from rich.table import Table

    from tocsin.templates.loader import available, read_manifest

    rows = []
    for name, root in available().items():
        manifest, problems = read_manifest(root, name)
        rows.append(
            {
                "name": name,
                "version": manifest.version if manifest else None,
                "audience": manifest.audience.value if manifest else None,
                "channel": manifest.channel.value if manifest else None,
                "locales": manifest.locales if manifest else [],
                "description": manifest.description if manifest else "; ".join(str(p) for p in problems),
                "folder": str(root / name),
            }
        )
    if json_output:
        print_json(rows)
        return
    table = Table()
    for heading in ("Template", "Version", "Audience", "Channel", "Locales"):
        table.add_column(heading, no_wrap=True)
    table.add_column("Purpose")
    for row in rows:
        table.add_row(
            row["name"],
            row["version"] or "INVALID",
            row["audience"] or "",
            row["channel"] or "",
            ", ".join(row["locales"]),
            row["description"],
        )
    console.print(table)


@template_app.command("check")
def check(
    path: Annotated[
        Path | None, typer.Argument(help="A templates folder or one template's folder (default: all in use).")
    ] = None,
    json_output: bool = JSON_OPTION,
) -> None:
    """Validate templates: manifests, syntax, variables, sandbox, required sections, and a test render of
    every locale. Exits 2 and prints `file:line: problem` for each problem."""
    from tocsin.core.errors import InvalidInput
    from tocsin.templates.loader import BUILTIN_ROOT, check_folder, template_roots

    if path is not None and not path.expanduser().is_dir():
        raise InvalidInput("not a folder", where=str(path))
    folders = [path] if path is not None else list(reversed(template_roots()))
    checked: list[str] = []
    problems: list[str] = []
    for folder in folders:
        names, found = check_folder(folder)
        checked += names
        prefix = "" if folder.expanduser().resolve() == BUILTIN_ROOT else f"{folder}/"
        if (folder.expanduser() / "template.yaml").is_file():
            prefix = f"{folder.expanduser().parent}/"
        problems += [f"{prefix}{p}" for p in found]
    if json_output:
        print_json({"checked": checked, "problems": problems, "ok": not problems})
    else:
        for problem in problems:
            print(problem, file=sys.stderr)
        if not problems:
            console.print(f"{len(checked)} template(s) ok: {', '.join(checked)}")
    if problems:
        raise typer.Exit(2)
    if not checked:
        raise InvalidInput("no templates found (a template is a folder with a template.yaml)", where=str(path))
