"""Rendering console pages: one Jinja2 environment (autoescaped), filters for times, and `page(...)`.

Times are stored in UTC and shown in the viewer's zone: `when` writes a <time> element whose title is the
UTC instant (visible on hover, read by assistive technology), `time_left` writes the time left to a
deadline, which console.js keeps ticking when JavaScript runs.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape
from tocsin.web.console.session import csrf_token, current_viewer, display_zone_for, pop_flashes

from tocsin.core.clocks import iso_utc, to_utc, utcnow, zone

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-src 'self' about:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
URGENCY = {
    "on-track": "on-track",
    "due-soon": "due-soon",
    "overdue": "overdue",
    "submitted": "submitted",
    "open": "no-deadline",
    "pending": "no-deadline",
    "retention": "no-deadline",
    "withdrawn": "no-deadline",
}


def describe_left(seconds: float) -> str:
    """`2 d 4 h left`, `3 h 12 min left`, `5 min left`, `overdue by 3 h 5 min` (console.js mirrors this)."""
    overdue = seconds < 0
    total = int(abs(seconds)) // 60
    days, rest = divmod(total, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        text = f"{days} d {hours} h"
    elif hours:
        text = f"{hours} h {minutes} min"
    else:
        text = f"{minutes} min"
    return f"overdue by {text}" if overdue else f"{text} left"


def _zone_of(context: Context) -> str:
    return str(context.get("zone") or "UTC")


@pass_context
def when(context: Context, instant: datetime | None, fmt: str = "%Y-%m-%d %H:%M %Z") -> Markup:
    """<time datetime="…Z" title="… UTC">local time</time> in the viewer's zone; an em dash for None."""
    if instant is None:
        return Markup("—")
    utc_text = iso_utc(instant) or ""
    local = to_utc(instant).astimezone(zone(_zone_of(context))).strftime(fmt)
    hover = utc_text.replace("T", " ").replace("Z", " UTC")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(utc_text, hover, local)


@pass_context
def time_left(context: Context, deadline: datetime | None) -> Markup:
    """The time left to `deadline` (or how long overdue), live when JavaScript runs; an em dash for None."""
    if deadline is None:
        return Markup("—")
    now = context.get("now") or utcnow()
    seconds = (to_utc(deadline) - now).total_seconds()
    return Markup('<span class="time-left" data-deadline="{}">{}</span>').format(
        iso_utc(deadline), describe_left(seconds)
    )


def urgency(standing: str | None) -> str:
    """The CSS class for a countdown standing: on-track, due-soon, overdue, submitted or no-deadline."""
    return "urgency-" + URGENCY.get(str(standing or ""), "no-deadline")


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=when, time_left=time_left, urgency=urgency, utc=iso_utc)
    env.globals["escape"] = escape
    return env


ENVIRONMENT = _environment()


def page(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    """Render templates/<name> with `context` plus: request, viewer (or None), csrf_token, flashes, now (UTC)
    and zone (the viewer's display zone)."""
    viewer = current_viewer(request)
    values: dict[str, Any] = {
        "request": request,
        "viewer": viewer,
        "csrf_token": csrf_token(request),
        "flashes": pop_flashes(request),
        "now": utcnow(),
        "zone": viewer.timezone if viewer is not None else display_zone_for(request),
        **(context or {}),
    }
    html = ENVIRONMENT.get_template(name).render(values)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
