"""Shared output helpers: JSON for scripts, Rich for people, and who is acting."""

from __future__ import annotations

import getpass
import json
import os
import sys
from datetime import datetime
from typing import Any

import typer
from rich.console import Console

console = Console(highlight=False, soft_wrap=True)

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON.")
AS_OPTION = typer.Option(None, "--as", help="Who is acting (default: TOCSIN_USER, then your login name).")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def acting_person(explicit: str | None) -> str:
    from tocsin.people.directory import check_handle

    return check_handle(explicit or os.environ.get("TOCSIN_USER") or getpass.getuser())


def display_zone() -> str:
    """The viewer's zone: TOCSIN_TIMEZONE, else the system's local zone, else UTC."""
    from tocsin.core.config import get_settings

    configured = get_settings().timezone
    if configured:
        return configured
    local = datetime.now().astimezone().tzinfo
    key = getattr(local, "key", None)
    if key:
        return str(key)
    try:
        link = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in link:
            return link.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    return "UTC"


def continue_playbooks(incident_id: int) -> None:
    """After a change a playbook may be waiting for (approval, ack, assignment, event), let it go on."""
    from tocsin.flows.launch import wake

    notes = Console(stderr=True, highlight=False)
    for how in wake(incident_id):
        notes.print(f"[dim]playbook continues: {how}[/]")
