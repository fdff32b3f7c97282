"""Rendering a drill scorecard with Rich."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from tocsin.cli.output import console


def render_scorecard(card: dict[str, Any]) -> None:
    drill = card["drill"]
    console.print()
    console.print(f"[bold]Scorecard[/]: {card['scenario']} — playbook {card['playbook']} on {card['incident']}")
    status = drill["status"] + (f" (stuck: {drill['stuck']})" if drill.get("stuck") else "")
    console.print(f"Run {status}; {drill['phases']} phase(s) in {drill['real_seconds']} s real time.")
    wide = console.width >= 110  # on a narrow terminal the recipient column goes (it is in scorecard.md)
    table = Table(title="Deadlines", title_justify="left")
    table.add_column("Rule", no_wrap=True)
    if wide:
        table.add_column("To", max_width=30, overflow="ellipsis", no_wrap=True)
    table.add_column("Due (UTC)", no_wrap=True)
    table.add_column("Result", no_wrap=True)
    for d in card["deadlines"]:
        if d["met"] is None:
            result = "[yellow]open[/]"
        elif d["met"]:
            result = f"[green]met[/], {d['margin_hours']:.1f} h early"
        else:
            result = f"[red]MISSED[/] by {abs(d['margin_hours']):.1f} h"
        cells = [d["rule"], d["recipient"]] if wide else [d["rule"]]
        table.add_row(*cells, _compact(d["deadline_utc"]), result)
    if card["deadlines"]:
        console.print(table)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim")
    facts.add_column()

    def hours(value: float | None) -> str:
        return "—" if value is None else f"{value:.1f} h after awareness"

    facts.add_row("First regulator notice", hours(card["first_regulator_notice_hours"]))
    facts.add_row("First customer notice", hours(card["first_customer_notice_hours"]))
    facts.add_row("First public statement", hours(card["first_public_statement_hours"]))
    acks = ", ".join(
        f"{e['role']}: {e['acked_by'] or 'nobody'}" + (f" in {e['ack_minutes']:.0f} min" if e["ack_minutes"] else "")
        for e in card["escalations"]
    )
    facts.add_row("Acknowledgements", acks or "—")
    facts.add_row("Escalated past first person", str(card["escalated_beyond_first"]))
    facts.add_row("Never acknowledged", str(card["unacknowledged"]))
    facts.add_row("Reminders / overdue escalations", f"{card['reminders_sent']} / {card['overdue_escalations']}")
    facts.add_row("Drafts rejected / approved", f"{card['draft_rejections']} / {card['draft_approvals']}")
    tasks = card["tasks"]
    facts.add_row(
        "Checklist", f"{tasks['on_time']} on time, {tasks['late']} late, {tasks['open']} open of {tasks['total']}"
    )
    facts.add_row("Sentiment alerts", str(card["sentiment_alerts"]))
    console.print(facts)
    console.print(f"Scorecard, outbox and timeline: {drill['folder']}")


def _compact(instant: str | None) -> str:
    """`2027-03-12T06:45:00Z` → `2027-03-12 06:45`."""
    return instant[:16].replace("T", " ") if instant else "—"
