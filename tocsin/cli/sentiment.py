"""`tocsin sentiment scan FILE` and `tocsin sentiment watch`: spikes in brand mentions and negativity."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tocsin.cli.app import app
from tocsin.cli.output import AS_OPTION
from tocsin.core.errors import InvalidInput

if TYPE_CHECKING:
    from tocsin.sentiment.detector import Alert, DetectorConfig
    from tocsin.sentiment.mention import LineIssue

sentiment_app = typer.Typer(
    help="Sentiment watch: score brand mentions and raise spikes of volume or negativity.", no_args_is_help=True
)
app.add_typer(sentiment_app, name="sentiment")

MAX_ISSUES_SHOWN = 20
KEY_ENV = "TOCSIN_PSEUDONYM_KEY"


def _pseudonym_key() -> bytes:
    """The deployment's key, or a throwaway one (pseudonyms then only hold within this run)."""
    key = os.environ.get(KEY_ENV)
    return key.encode("utf-8") if key else os.urandom(32)


def _config(bin_text: str, threshold: float | None) -> DetectorConfig:
    from dataclasses import replace

    from tocsin.sentiment.binning import parse_duration
    from tocsin.sentiment.detector import DetectorConfig

    try:
        bin_seconds = parse_duration(bin_text)
    except ValueError as error:
        raise InvalidInput(str(error), where="--bin") from None
    if 86400 % bin_seconds:
        raise InvalidInput("the bin must divide a day evenly (e.g. 1m, 5m, 15m, 1h)", where="--bin")
    config = DetectorConfig(bin_seconds=bin_seconds)
    return replace(config, threshold=threshold) if threshold is not None else config


class _IssueReporter:
    """Prints refused lines on stderr with their numbers (the first few), and counts them all."""

    def __init__(self, source: str, on_issue) -> None:
        self.source = source
        self.shown = 0
        self.on_issue = on_issue

    def __call__(self, issue: LineIssue) -> None:
        self.on_issue(issue)
        if self.shown < MAX_ISSUES_SHOWN:
            print(f"{self.source}:{issue.line}: skipped: {issue.reason}", file=sys.stderr)
        self.shown += 1

    def summary(self) -> None:
        if self.shown > MAX_ISSUES_SHOWN:
            print(f"{self.source}: ... {self.shown - MAX_ISSUES_SHOWN} more skipped lines", file=sys.stderr)


def _alert_line(alert: Alert) -> str:
    share = "" if alert.negative_share is None else f", negative {alert.negative_share:.0%}"
    return (
        f"{alert.kind.upper()} spike from {alert.window_start:%Y-%m-%d %H:%M}Z, detected "
        f"{alert.detected_at:%Y-%m-%d %H:%M}Z: {alert.count} vs {alert.baseline:.1f} expected "
        f"(score {alert.score:.1f}{share})"
    )


@sentiment_app.command()
def scan(
    file: Path = typer.Argument(..., help="JSONL mentions: id, created_at (ISO 8601 with offset), text, ..."),
    json_output: bool = typer.Option(False, "--json", help="Print alerts and stats as JSON."),
    bin_size: str = typer.Option("5m", "--bin", help="Time bin: 1m, 5m, 15m, 1h..."),
    brand: str | None = typer.Option(None, "--brand", help="Keep only mentions whose text names this brand."),
    chart: Path | None = typer.Option(None, "--chart", help="Write an SVG chart of volume, negativity, alerts."),
    threshold: float | None = typer.Option(None, "--threshold", help="Override the detector's z threshold."),
) -> None:
    """Scan a JSONL file of mentions for spikes of volume and of negativity."""
    from tocsin.sentiment.connectors import FileConnector, read_mentions
    from tocsin.sentiment.scan import Scan

    config = _config(bin_size, threshold)
    scanner = Scan(config, brand=brand, keep_series=chart is not None)
    reporter = _IssueReporter(str(file), scanner.stats.note_issue)
    scanner.add_all(read_mentions(FileConnector(file), _pseudonym_key(), reporter))
    reporter.summary()
    result = scanner.finish()
    if chart is not None:
        from tocsin.sentiment.chart import render_svg

        title = f"Mentions of {brand}" if brand else f"Mentions in {file.name}"
        try:
            chart.write_text(render_svg(result.series, result.alerts, title), encoding="utf-8")
        except OSError as error:
            raise InvalidInput(f"cannot write the chart ({error.strerror or error})", where=str(chart)) from None
    if json_output:
        payload = {"alerts": [a.to_json() for a in result.alerts], "stats": result.stats.to_json(config.bin_seconds)}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    stats = result.stats
    typer.echo(
        f"{stats.mentions} mentions in {stats.bins} bins of {config.bin_seconds // 60 or config.bin_seconds}"
        f"{'m' if config.bin_seconds >= 60 else 's'}; {stats.negative} negative, {stats.unscored} unscored, "
        f"{stats.malformed} malformed, {stats.not_public} not public"
    )
    if not result.alerts:
        typer.echo("No alerts.")
    for alert in result.alerts:
        typer.echo(_alert_line(alert))
    if chart is not None:
        typer.echo(f"Chart written to {chart}")


@sentiment_app.command()
def watch(
    json_output: bool = typer.Option(False, "--json", help="One JSON object per alert, then the stats."),
    bin_size: str = typer.Option("5m", "--bin", help="Time bin: 1m, 5m, 15m, 1h..."),
    lateness: str = typer.Option("1m", "--lateness", help="How long a bin waits for late mentions."),
    brand: str | None = typer.Option(None, "--brand", help="Keep only mentions whose text names this brand."),
    threshold: float | None = typer.Option(None, "--threshold", help="Override the detector's z threshold."),
) -> None:
    """Watch a live JSONL stream on stdin; print alerts as they fire (bins close on event time)."""
    from tocsin.sentiment.binning import parse_duration
    from tocsin.sentiment.connectors import StreamConnector, read_mentions
    from tocsin.sentiment.scan import Scan

    config = _config(bin_size, threshold)
    try:
        lateness_s = 0 if lateness.strip() in ("0", "0s", "0m") else parse_duration(lateness)
    except ValueError as error:
        raise InvalidInput(str(error), where="--lateness") from None

    def emit(alert: Alert) -> None:
        typer.echo(json.dumps(alert.to_json(), ensure_ascii=False) if json_output else _alert_line(alert))
        sys.stdout.flush()

    scanner = Scan(config, brand=brand, lateness=lateness_s, keep_series=False, on_alert=emit)
    reporter = _IssueReporter("stdin", scanner.stats.note_issue)
    scanner.add_all(read_mentions(StreamConnector(sys.stdin), _pseudonym_key(), reporter))
    reporter.summary()
    result = scanner.finish()
    stats = result.stats.to_json(config.bin_seconds)
    if json_output:
        typer.echo(json.dumps({"stats": stats}, ensure_ascii=False))
    else:
        print(f"end of stream: {json.dumps(stats)}", file=sys.stderr)


@sentiment_app.command("raise")
def raise_alerts(
    file: Annotated[Path, typer.Argument(help="JSONL mentions file.")],
    incident: Annotated[str | None, typer.Option("--incident", help="Attach alerts to this open incident.")] = None,
    brand: Annotated[str | None, typer.Option("--brand", help="Only mentions naming this brand.")] = None,
    actor: str | None = AS_OPTION,
) -> None:
    """Scan FILE and raise its new alerts: onto an incident's timeline and channel, or (without --incident)
    as a crisis proposal to the on-duty commander (TOCSIN_ON_DUTY_COMMANDER)."""
    from tocsin.cli.gateway import require_local

    require_local("sentiment raise")
    from tocsin.cli.output import acting_person
    from tocsin.core.ids import parse_incident_id
    from tocsin.social.watch import scan_and_raise

    incident_id = parse_incident_id(incident) if incident else None
    summary = scan_and_raise(file, actor=acting_person(actor), incident_id=incident_id, brand=brand)
    typer.echo(
        f"{summary['alerts']} alert(s) found, {summary['raised']} newly raised, "
        f"{summary['malformed']} malformed line(s)"
    )
