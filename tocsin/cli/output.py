"""Shared output helpers: JSON for scripts, Rich for people, and who is acting."""

from __future__ import annotations

import getpass
import json
import os
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

console = Console(highlight=False, soft_wrap=True)

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON.")
AS_OPTION = typer.Option(
    None, "--as", help="Who is acting, in local mode (default: TOCSIN_USER, then your login name)."
)

if TYPE_CHECKING:
    from tocsin.core.acting import Actor


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def acting_person(explicit: str | None) -> Actor:
    """The local operator: `--as`, else TOCSIN_USER (both recorded as claimed), else the OS user."""
    from tocsin.core.acting import Actor
    from tocsin.people.directory import check_handle

    claimed = explicit or os.environ.get("TOCSIN_USER")
    return Actor.local(check_handle(claimed or _os_user()), claimed=bool(claimed))


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (containers)
        return "unknown"


def interactive() -> bool:
    """Whether a person is at the terminal (standard input and output both are one)."""
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


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
