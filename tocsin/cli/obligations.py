"""`tocsin obligations FILE`: every notification obligation an incident description triggers."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import typer

from tocsin.cli.app import app
from tocsin.core.errors import InvalidInput

_WAITING_PREFIXES = ("clock-start event", "proposed rule", "outside regimes_in_scope_only")


def _dormant(reason: str) -> bool:
    """Not triggered only because the incident never reached this regime (no clock-start event)."""
    return reason.startswith(_WAITING_PREFIXES) or (reason.startswith("follows ") and reason.endswith("not given"))


def _viewer_zone(explicit: str | None) -> Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = explicit or os.environ.get("TOCSIN_TIMEZONE")
    if not name:
        from tocsin.cli.output import display_zone

        name = display_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r} (an IANA name such as Europe/Paris)", where="--tz") from None


def _span(delta: timedelta) -> str:
    minutes = int(abs(delta).total_seconds()) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    return f"{days}d {hours:02d}h{minutes:02d}" if days else f"{hours}h{minutes:02d}"


def _time_left(deadline: datetime | None, trigger: datetime | None, now: datetime) -> str:
    if deadline is None:
        return f"{_span(now - trigger)} since trigger" if trigger and trigger <= now else "-"
    if deadline >= now:
        return f"{_span(deadline - now)} left"
    return f"[bold red]overdue by {_span(now - deadline)}[/]"


def _render(report: Any, zone: Any, now: datetime) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    table = Table(title=f"Obligations (times in {zone.key}, now {now.astimezone(zone):%Y-%m-%d %H:%M %Z})")
    for column in ("Rule", "Recipient", "Kind", "Deadline (local)", "Time left", "Citation"):
        table.add_column(column, overflow="fold")
    for item in report.obligations:
        if item.deadline_utc is not None:
            shown = f"{item.deadline_utc.astimezone(zone):%Y-%m-%d %H:%M %Z}"
        elif item.retain_until_local_date is not None:
            shown = f"keep until {item.retain_until_local_date:%Y-%m-%d}"
        else:
            shown = "-"
        if item.strict_deadline_utc is not None:
            shown += f"\n(strict {item.strict_deadline_utc.astimezone(zone):%Y-%m-%d %H:%M})"
        if item.alt_deadline_utc is not None:
            shown += f"\n(alt. {item.alt_deadline_utc.astimezone(zone):%Y-%m-%d %H:%M})"
        label = item.rule + (f"\n{item.phase}" if item.phase else "")
        left = _time_left(item.deadline_utc, item.trigger_utc, now)
        table.add_row(label, item.recipient, item.deadline_kind, shown, left, item.citation)
    console.print(table if report.obligations else "No obligations triggered.")
    relevant = [entry for entry in report.not_triggered if not _dormant(entry.reason)]
    quiet = len(report.not_triggered) - len(relevant)
    if relevant:
        console.print("[bold]Not triggered[/]")
        for entry in relevant:
            console.print(f"  {entry.rule}: {entry.reason}")
    console.print(
        f"[dim]{quiet} more rules not triggered (no clock-start event, proposed or out of scope); "
        "--json lists them all.[/]"
    )


@app.command()
def obligations(
    file: str = typer.Argument(..., help="Incident description (YAML or JSON; '-' for stdin)."),
    json_output: bool = typer.Option(False, "--json", help="Print the output contract as JSON."),
    tz: str | None = typer.Option(None, "--tz", help="Display zone (default: TOCSIN_TIMEZONE, else the system zone)."),
    now: str | None = typer.Option(None, "--now", help="Pretend the current instant is this ISO 8601 time."),
) -> None:
    """Every notification obligation the facts and events in FILE trigger, with exact deadlines."""
    import json

    from tocsin.clock import evaluate, load_rules, parse_input
    from tocsin.clock.inputs import _Refusal, parse_instant, read_input

    try:
        current = parse_instant(now, ("--now",)) if now else datetime.now(UTC)
    except _Refusal as refusal:
        raise InvalidInput(refusal.message, where="--now") from None
    document, source = read_input(file)
    book = load_rules()
    # A calculator on a described incident, real or planned: events may lie ahead (an incident's own facts may not).
    report = evaluate(parse_input(document, source=source, rules=book), book, current)
    if json_output:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
        return
    _render(report, _viewer_zone(tz), current)
