"""Delivery bookkeeping: `tocsin webhook sendgrid FILE`, `tocsin suppress add|list`, `tocsin purge`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tocsin.cli.app import app
from tocsin.cli.output import AS_OPTION, JSON_OPTION, acting_person, console, print_json

webhook_app = typer.Typer(help="Ingest saved provider webhook bodies.", no_args_is_help=True)
suppress_app = typer.Typer(
    help="Addresses Tocsin must never email (opt-out, bounce, unsubscribe).", no_args_is_help=True
)
app.add_typer(webhook_app, name="webhook")
app.add_typer(suppress_app, name="suppress")


@webhook_app.command("sendgrid")
def webhook_sendgrid(
    body_file: Annotated[Path, typer.Argument(help="A saved SendGrid Event Webhook body (JSON array).")],
    json_output: bool = JSON_OPTION,
) -> None:
    """Apply SendGrid delivery events: delivery statuses, and bounces/unsubscribes to the suppression list."""
    from tocsin.cli.gateway import require_local

    require_local("webhook sendgrid")
    from tocsin.core.errors import InvalidInput
    from tocsin.db.engine import session_scope
    from tocsin.wave.deliveries import ingest_sendgrid_events

    if not body_file.is_file():
        raise InvalidInput("file not found", where=str(body_file))
    with session_scope() as session:
        summary = ingest_sendgrid_events(session, body_file.read_bytes(), {})
    data = summary.as_dict()
    if json_output:
        print_json(data)
        return
    console.print(
        f"{data['events']} events: {data['matched']} matched Tocsin deliveries ({data['updated']} status changes, "
        f"{data['settled']} in-doubt sends confirmed), {data['unmatched']} unknown; "
        f"{data['suppressed']} addresses newly suppressed"
    )


@suppress_app.command("add")
def suppress_add(
    email: Annotated[str, typer.Argument(help="The address never to email.")],
    reason: Annotated[
        str, typer.Option("--reason", help="opt-out, bounce, unsubscribe, spamreport, dropped or manual.")
    ] = "opt-out",
    note: Annotated[str | None, typer.Option("--note", help="Why, in words (e.g. 'asked by phone').")] = None,
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Add an address to the suppression list (notice waves skip and count it)."""
    from tocsin.cli.gateway import open_gateway

    data = open_gateway(actor).suppress(email, reason=reason, note=note)
    if json_output:
        print_json(data)
    elif data["created"]:
        console.print(f"{data['email']} suppressed ({data['reason']}).")
    else:
        console.print(f"{data['email']} was already suppressed ({data['reason']}).")


@suppress_app.command("list")
def suppress_list(
    reason: Annotated[str | None, typer.Option("--reason", help="Only this reason.")] = None,
    json_output: bool = JSON_OPTION,
) -> None:
    """The suppression list, oldest first."""
    from rich.table import Table

    from tocsin.cli.gateway import open_gateway

    rows = open_gateway().suppressions(reason=reason)
    if json_output:
        print_json(rows)
        return
    if not rows:
        console.print("No suppressed addresses.")
        return
    table = Table("Email", "Reason", "Source", "Since (UTC)", "Note")
    for row in rows:
        table.add_row(row["email"], row["reason"], row.get("source") or "", row.get("at") or "", row.get("note") or "")
    console.print(table)


@app.command()
def purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would be removed.")] = False,
    actor: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Remove personal data past its retention: wave recipients (counts are kept), outbox copies and drill
    recipient lists (recipient_retention_days), mention streams (mention_retention_days), ended console sessions
    and stale log-in counters."""
    from datetime import UTC, datetime, timedelta

    from tocsin.cli.gateway import require_local

    require_local("purge")
    from tocsin.core.acting import acting
    from tocsin.core.clocks import utcnow
    from tocsin.core.config import get_settings
    from tocsin.db.engine import session_scope
    from tocsin.people.passwords import Throttle
    from tocsin.retention.files import KINDS as FILE_KINDS
    from tocsin.retention.files import purge_files
    from tocsin.retention.purge import purge_recipient_data
    from tocsin.retention.sign_ins import purge_sign_ins

    who = acting_person(actor)
    settings = get_settings()
    days = settings.recipient_retention_days
    with acting(who), session_scope() as session:
        purged = purge_recipient_data(session, now=utcnow(), retention_days=days, actor=who.handle, dry_run=dry_run)
        sign_ins = purge_sign_ins(
            session, now=utcnow(), idle=timedelta(minutes=settings.web_session_idle_minutes),
            throttle=Throttle(settings.web_login_attempts, timedelta(minutes=settings.web_lockout_minutes)),
            dry_run=dry_run,
        )  # fmt: skip
    files = purge_files(
        settings.home,
        now=datetime.now(UTC),
        recipient_days=days,
        mention_days=settings.mention_retention_days,
        dry_run=dry_run,
    )
    data = {
        "retention_days": days,
        "mention_retention_days": settings.mention_retention_days,
        "dry_run": dry_run,
        "waves": [{"wave": p.wave_id, "incident": f"INC-{p.incident_id}", "rows": p.rows} for p in purged],
        "rows": sum(p.rows for p in purged),
        "files": {kind: sum(1 for f in files if f.kind == kind) for kind in FILE_KINDS},
        "sign_ins": {"sessions": sign_ins.sessions, "login_counters": sign_ins.counters},
    }
    if json_output:
        print_json(data)
        return
    verb = "would remove" if dry_run else "removed"
    console.print(f"Retention {days} days: {verb} the recipient data of {len(purged)} wave(s), {data['rows']:,} rows.")
    for item in data["waves"]:
        console.print(f"  wave {item['wave']} ({item['incident']}): {item['rows']:,} rows")
    counts = data["files"]
    console.print(
        f"Files {verb}: {counts['outbox']} outbox message(s), {counts['claims']} outbox claim(s), "
        f"{counts['recipients']} recipient list(s), {counts['mentions']} mention stream(s)."
    )
    console.print(
        f"Console sign-ins {verb}: {sign_ins.sessions} ended session(s), {sign_ins.counters} stale log-in counter(s)."
    )
