"""Extra Jinja2 filters of the incident, approval and wave pages (registered on render.ENVIRONMENT by `install`).

- `{{ since | waited }}` -> `<time datetime="…Z" title="since 2026-11-22 20:40 CET (19:40 UTC)">3 h 10 min</time>`
- `{{ seconds | duration }}` -> `3 h 10 min` / `2 d 4 h` / `5 min`
- `{{ sha | short_hash }}` -> the first 12 characters (what the CLI and the flashes show)
- `{{ rule | breakable }}` -> the rule id with a <wbr> after every dot and underscore, so it wraps between words
- `{{ text | clauses }}` -> an engine explanation split on "; " into its clauses
"""

from __future__ import annotations

from datetime import datetime

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from tocsin.web.console.render import ENVIRONMENT

from tocsin.core.clocks import iso_utc, to_utc, utcnow, zone

HASH_SHOWN = 12


def duration(seconds: float) -> str:
    """A length of time for people: `2 d 4 h`, `3 h 10 min`, `5 min` (under a minute: `less than a minute`)."""
    total = int(abs(seconds)) // 60
    days, rest = divmod(total, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else "less than a minute"


@pass_context
def waited(context: Context, since: datetime | None) -> Markup:
    """How long ago `since` was, in a <time> whose title is the instant in the viewer's zone and in UTC."""
    if since is None:
        return Markup("—")
    now = context.get("now") or utcnow()
    local = to_utc(since).astimezone(zone(str(context.get("zone") or "UTC")))
    utc_text = iso_utc(since) or ""
    hover = f"since {local:%Y-%m-%d %H:%M %Z} ({to_utc(since):%Y-%m-%d %H:%M} UTC)"
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        utc_text, hover, duration((now - to_utc(since)).total_seconds())
    )


def short_hash(value: str | None, length: int = HASH_SHOWN) -> str:
    return (value or "")[:length]


def breakable(identifier: str | None) -> Markup:
    """`eu.gdpr.art33.supervisory_authority` with a line-break opportunity after each `.` and `_`."""
    text = str(escape(identifier or ""))
    return Markup(text.replace(".", ".<wbr>").replace("_", "_<wbr>"))


def clauses(text: str | None) -> list[str]:
    """An explanation of the clock engine (`a; b; c`) as its clauses, for one line each."""
    return [part.strip() for part in (text or "").split("; ") if part.strip()]


FILTERS = {
    "duration": duration,
    "waited": waited,
    "short_hash": short_hash,
    "breakable": breakable,
    "clauses": clauses,
}


def install() -> None:
    """Add the filters to the console's Jinja2 environment (idempotent; called by the page modules)."""
    ENVIRONMENT.filters.update(FILTERS)
