"""The notice wave: `tocsin notify INCIDENT --draft D --recipients FILE`, and `tocsin waves INCIDENT`."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tocsin.cli.app import app
from tocsin.cli.output import AS_OPTION, JSON_OPTION, acting_person, console, print_json

if TYPE_CHECKING:
    from tocsin.wave.run import WaveReport

SHOWN_INVALID_ROWS = 20


@app.command()
def notify(
    incident: Annotated[str, typer.Argument(help="Incident id (12 or INC-12).")],
    drafts: Annotated[
        list[str], typer.Option("--draft", help="Approved email draft (repeat: one per locale).", show_default=False)
    ],
    recipients: Annotated[
        Path, typer.Option("--recipients", help="CSV or JSONL: email, name, locale, jurisdiction, tag values.")
    ],
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding",
            help="The file's encoding when not UTF-8 (latin-1, cp1252, utf-16): a UTF-8 copy is used, then removed.",
        ),
    ] = None,
) -> None:
    """Send approved notice(s) to every recipient in FILE, exactly once each; rerun to resume."""
    from tocsin.cli.gateway import require_local, tell_continuing

    require_local("notify")
    from tocsin.core.config import get_settings
    from tocsin.core.ids import parse_draft_id, parse_incident_id
    from tocsin.messages.channels import describe_channel, email_channel
    from tocsin.wave import actions
    from tocsin.wave.recipient_text import utf8_copy
    from tocsin.wave.recipients import count_rows, read_recipients

    who = acting_person(actor)
    incident_id = parse_incident_id(incident)
    draft_ids = [parse_draft_id(d) for d in drafts]
    channel = email_channel()
    copy = (
        utf8_copy(recipients, encoding, home=get_settings().home, label=f"INC-{incident_id}")
        if encoding
        else nullcontext(recipients)
    )
    with copy as source:
        converted = f"{recipients.name} converted from {encoding} to UTF-8" if source != recipients else None
        if converted and not json_output:
            console.print(f"{converted} (a private copy for this run, removed afterwards)")
        # not UTF-8, no rows, no email column: refused now, before anything is counted, created or sent
        read_recipients(source).close()
        total = count_rows(source)
        if not json_output:
            console.print(f"Sending to {total:,} rows of {recipients.name} through {describe_channel()}")
        with _progress(total, enabled=not json_output) as update:
            report = actions.notify(
                who, incident_id, draft_ids, source, channel=channel, progress=update, waker=tell_continuing
            )
    rejected_file = _write_invalid_rows(report) if report.invalid_rows else None
    if json_output:
        print_json(
            {
                "wave": report.wave_id,
                "incident": f"INC-{report.incident_id}",
                "channel": report.channel,
                "converted": converted,
                **report.counts(),
                "invalid_rows": [{"line": r.line, "reason": r.reason} for r in report.invalid_rows],
                "failures": dict(report.failures.most_common(10)),
            }
        )
    else:
        _print_summary(report, rejected_file)
    if report.failed or report.held:  # not everyone is known to have been sent the notice
        raise typer.Exit(1)


@contextmanager
def _progress(total: int, *, enabled: bool) -> Iterator[Callable[[WaveReport], None] | None]:
    """A Rich progress bar on stderr (rows/s, ETA, running counts); yields the wave's progress callback."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} rows/s"),
        TimeRemainingColumn(),
        TextColumn("sent {task.fields[sent]}  suppressed {task.fields[suppressed]}"),
        TextColumn("invalid {task.fields[invalid]}  failed {task.fields[failed]}"),
    )
    with Progress(*columns, console=Console(stderr=True), refresh_per_second=4) as progress:
        task = progress.add_task("wave", total=total or None, rate="-", sent=0, suppressed=0, invalid=0, failed=0)

        def update(report: WaveReport) -> None:
            speed = progress.tasks[task].speed
            progress.update(
                task,
                completed=report.rows,
                rate=f"{speed:,.0f}" if speed else "-",
                sent=f"{report.sent + report.already_sent:,}",
                suppressed=f"{report.suppressed:,}",
                invalid=f"{report.invalid:,}",
                failed=f"{report.failed:,}",
            )

        yield update


def _write_invalid_rows(report: WaveReport) -> Path:
    """Line numbers and reasons only (no personal data), next to the other reports."""
    from tocsin.core.config import get_settings

    folder = get_settings().reports_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"wave-{report.wave_id}-invalid-rows.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "reason"])
        writer.writerows((row.line, row.reason) for row in report.invalid_rows)
    return path


def _print_summary(report: WaveReport, rejected_file: Path | None) -> None:
    from rich.table import Table

    table = Table("Outcome", "Recipients", title=f"Wave {report.wave_id} for INC-{report.incident_id}")
    table.add_row("sent now", f"{report.sent:,}")
    table.add_row("already sent (earlier run)", f"{report.already_sent:,}")
    table.add_row("suppressed (skipped)", f"{report.suppressed:,}")
    table.add_row("invalid rows (skipped)", f"{report.invalid:,}")
    table.add_row("failed", f"{report.failed:,}")
    if report.held:
        table.add_row("held (in doubt after a crash)", f"{report.held:,}")
    if report.skipped:
        table.add_row("skipped (decided after a crash)", f"{report.skipped:,}")
    console.print(table)
    if report.held:
        console.print(
            f"[yellow]{report.held:,} held: their request was in flight when an earlier run stopped, and whether "
            f"SendGrid took it is unknown. See `tocsin wave in-doubt INC-{report.incident_id}`, then decide with "
            f"`tocsin wave resolve INC-{report.incident_id} --resend|--skip --reason TEXT`.[/]"
        )
    for row in report.invalid_rows[:SHOWN_INVALID_ROWS]:
        console.print(f"  line {row.line}: {row.reason}")
    if rejected_file is not None:
        more = len(report.invalid_rows) - SHOWN_INVALID_ROWS
        console.print(f"  {'… ' + str(more) + ' more; ' if more > 0 else ''}all invalid rows: {rejected_file}")
    for error, count in report.failures.most_common(5):
        console.print(f"  [red]failed ×{count:,}[/]: {error}")
    if report.failed:
        console.print("Run the same command again to retry the failed recipients (sent ones are skipped).")


@app.command()
def waves(
    incident: Annotated[str, typer.Argument(help="Incident id.")],
    json_output: bool = JSON_OPTION,
) -> None:
    """The notice waves of an incident and where their deliveries stand."""
    from rich.table import Table

    from tocsin.cli.gateway import require_local

    require_local("waves")

    from tocsin.core.ids import parse_incident_id
    from tocsin.db.engine import session_scope
    from tocsin.wave.progress import wave_rows

    with session_scope() as session:
        view = wave_rows(session, parse_incident_id(incident))
    if json_output:
        print_json(view)
        return
    rows, statuses = view["waves"], view["deliveries"]
    table = Table("Wave", "Drafts", "Status", "Started", "Sent", "Suppressed", "Invalid", "Failed", "Held")
    for row in rows:
        counts = {**row["counts"], "sent": row["progress"]["sent"], "failed": row["progress"]["failed"]}
        table.add_row(
            str(row["wave"]),
            ", ".join(f"D-{d}" for d in row["drafts"]),
            row["status"] + (" (purged)" if row["purged"] else ""),
            row["started_at"],
            *(f"{counts.get(k, 0):,}" for k in ("sent", "suppressed", "invalid", "failed", "held")),
        )
    console.print(table)
    for draft, by_status in statuses.items():
        console.print(f"D-{draft}: " + ", ".join(f"{s} {n:,}" for s, n in sorted(by_status.items())))
