"""Rendering the countdown of an incident's obligations (JSON rows and a Rich table)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.table import Table

from tocsin.cli.output import console
from tocsin.core.clocks import humanize_delta, local_display
from tocsin.obligations.countdown import Standing

STYLE = {
    Standing.overdue: "bold red",
    Standing.due_soon: "yellow",
    Standing.on_track: "green",
    Standing.submitted: "dim",
    Standing.open: "cyan",
    Standing.pending: "dim",
    Standing.retention: "dim",
}


def _left(row: dict[str, Any]) -> str:
    from datetime import timedelta

    if row["standing"] == "submitted":
        margin = row["margin_seconds"]
        if margin is None:
            return "submitted"
        return f"submitted, {humanize_delta(timedelta(seconds=abs(margin)))} {'early' if margin >= 0 else 'late'}"
    if row["standing"] == "withdrawn":
        return f"withdrawn: {row['withdrawn_reason']}"
    if row["seconds_left"] is None:
        return {"open": "without undue delay", "pending": "after the report it follows"}.get(row["standing"], "")
    seconds = row["seconds_left"]
    text = humanize_delta(timedelta(seconds=abs(seconds)))
    return f"overdue by {text}" if seconds < 0 else text


def render_clock(ref: str, title: str, rows: list[dict[str, Any]], zone_name: str, now: datetime) -> None:
    console.print(f"[bold]{ref}[/]  {title}  —  now {local_display(now, zone_name)}")
    if not rows:
        console.print("No notification obligations (no facts recorded, or none triggered).")
        return
    table = Table("Rule", "To", f"Deadline ({zone_name})", "Time left", "Citation")
    for row in rows:
        standing = Standing(row["standing"]) if row["standing"] != "withdrawn" else Standing.pending
        deadline = local_display_or_kind(row, zone_name)
        table.add_row(row["rule"], row["recipient"], deadline, f"[{STYLE[standing]}]{_left(row)}[/]", row["citation"])
    console.print(table)


def local_display_or_kind(row: dict[str, Any], zone_name: str) -> str:
    from tocsin.cli.render import local_or_dash

    return local_or_dash(row["deadline_utc"], zone_name, dash=row["deadline_kind"].replace("_", " "))
