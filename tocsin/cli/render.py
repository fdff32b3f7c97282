"""Rich rendering of an incident for `tocsin show`."""

from __future__ import annotations

import json
from typing import Any

from rich.table import Table

from tocsin.cli.output import console
from tocsin.core.clocks import local_display, parse_instant
from tocsin.incidents.views import event_summary


def local_or_dash(value: str | None, zone_name: str, dash: str = "—") -> str:
    """An ISO UTC string from our JSON views, shown in the viewer's zone."""
    return local_display(parse_instant(value), zone_name) if value else dash


def render_incident(data: dict[str, Any], zone_name: str) -> None:
    console.print(f"[bold]{data['ref']}[/]  {data['title']}")
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="dim")
    summary.add_column()
    summary.add_row("Kind / severity", f"{data['kind']} / {data['severity']}")
    summary.add_row("Status", data["status"])
    summary.add_row("Aware", f"{local_or_dash(data['aware_at'], zone_name)}  ({data['aware_at']})")
    summary.add_row("Declared", local_or_dash(data["declared_at"], zone_name))
    if data.get("closed_at"):
        summary.add_row("Closed", local_or_dash(data["closed_at"], zone_name))
    summary.add_row("Entity zone / locale", f"{data['timezone']} / {data['locale']}")
    if data.get("playbook"):
        summary.add_row("Playbook", data["playbook"])
    summary.add_row("Version", str(data["version"]))
    console.print(summary)

    roles = Table("Role", "Person", title="People", title_justify="left")
    for entry in data.get("roles", []):
        roles.add_row(entry["role"], entry["person"])
    console.print(roles)

    if data.get("facts"):
        console.print("[dim]Facts:[/] " + json.dumps(data["facts"], ensure_ascii=False)[:400])

    timeline = Table("#", f"When ({zone_name})", "Who", "What", "Details", title="Timeline", title_justify="left")
    for event in data.get("timeline", []):
        timeline.add_row(
            str(event["seq"]),
            local_or_dash(event["at"], zone_name),
            event["actor"],
            event["action"],
            event_summary(event["payload"]),
        )
    console.print(timeline)


def render_runs(runs: list[dict[str, Any]]) -> None:
    if not runs:
        console.print("No playbook has been launched on this incident.")
        return
    marks = {"done": "[green]✓[/]", "skipped": "[dim]–[/]", "waiting": "[yellow]…[/]", "failed": "[red]✗[/]",
             "running": "[cyan]▶[/]", "pending": " "}  # fmt: skip
    for run in runs:
        console.print(f"[bold]{run['playbook']}[/] v{run['version']} (run {run['run']}): {run['status']}"
                      + (f" — {run['waiting_for']}" if run["waiting_for"] else ""))  # fmt: skip
        table = Table("", "Step", "Type", "Note")
        for step in run["steps"]:
            table.add_row(marks.get(step["status"], "?"), step["step"], step["type"], step["note"] or "")
        console.print(table)
