"""Who is looking at the console: the log-in session in a signed cookie, and CSRF tokens for every form.

The session cookie (Starlette's SessionMiddleware, signed with itsdangerous) holds the handle, a
fingerprint of the person's password hash (a new password logs out every other session), the CSRF token
and pending flash messages. It is HttpOnly, SameSite=Lax, Secure with `web_https_only`, and expires after
`web_session_hours`. A tampered cookie fails its signature and counts as no session at all.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from starlette.datastructures import FormData

from tocsin.core.acting import Actor, Via
from tocsin.core.clocks import zone
from tocsin.core.config import Settings
from tocsin.core.errors import InvalidInput
from tocsin.db.engine import session_scope
from tocsin.people.directory import find_person

SESSION_COOKIE = "tocsin_session"
TZ_COOKIE = "tz"
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """No valid log-in: the console answers with a redirect to /login?next=<where the viewer was going>."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path

    @property
    def location(self) -> str:
        return f"/login?next={quote(self.next_path, safe='/')}"


class CsrfRefused(Exception):
    """A form without the session's CSRF token (missing, wrong, or no session): 403, nothing done."""


@dataclass(frozen=True)
class Viewer:
    handle: str
    name: str | None
    is_admin: bool
    timezone: str

    @property
    def display_name(self) -> str:
        return self.name or self.handle

    @property
    def actor(self) -> Actor:
        """The viewer acting through the console (every form calls an action as this actor)."""
        return Actor(self.handle, Via.console)


def secret_key(settings: Settings) -> str:
    """`web_secret_key`, else a key generated once into $TOCSIN_HOME/web-secret (mode 0600)."""
    if settings.web_secret_key is not None and settings.web_secret_key.get_secret_value():
        return settings.web_secret_key.get_secret_value()
    path: Path = settings.home / "web-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process wrote it first
            pass
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def password_fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def start_session(request: Request, handle: str, password_hash: str | None) -> None:
    """A fresh session for a person who just logged in (new CSRF token: nothing from before carries over)."""
    request.session.clear()
    request.session.update(
        {"handle": handle, "auth": password_fingerprint(password_hash), CSRF_FIELD: secrets.token_urlsafe(32)}
    )


def end_session(request: Request) -> None:
    request.session.clear()


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use, also for the log-in form before anyone logs in)."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return str(token)


async def checked_form(request: Request) -> FormData:
    """The posted form, once its `csrf_token` field matches the session's; CsrfRefused (403) otherwise."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get(CSRF_FIELD)
    if not isinstance(sent, str) or not expected or not secrets.compare_digest(sent, str(expected)):
        raise CsrfRefused("this form has no valid CSRF token (the page was stale or not from Tocsin); reload and retry")
    return form


def known_zone(name: str | None) -> str | None:
    """`name` if it is a real IANA zone, else None."""
    name = (name or "").strip()
    if not name or len(name) > 64:
        return None
    try:
        zone(name)
    except InvalidInput:
        return None
    return name


def cookie_zone(request: Request) -> str | None:
    """The zone the browser reported (console.js sets the `tz` cookie from Intl), if it is a real zone."""
    return known_zone(request.cookies.get(TZ_COOKIE))


def display_zone_for(request: Request, person_zone: str | None = None) -> str:
    """The person's zone, else the browser's, else the configured TOCSIN_TIMEZONE, else UTC."""
    settings: Settings = request.app.state.settings
    return known_zone(person_zone) or cookie_zone(request) or known_zone(settings.timezone) or "UTC"


def current_viewer(request: Request) -> Viewer | None:
    """The logged-in viewer, or None (no session, unknown person, or the password changed since)."""
    cached: Any = getattr(request.state, "viewer", False)
    if cached is not False:
        return cached
    found: Viewer | None = None
    handle = request.session.get("handle")
    if handle:
        with session_scope() as session:
            person = find_person(session, str(handle))
            stored = person.password_hash if person is not None else None
            sent = str(request.session.get("auth"))
            if person is not None and stored is not None and secrets.compare_digest(password_fingerprint(stored), sent):
                zone_name = display_zone_for(request, person.timezone)
                found = Viewer(person.handle, person.name, person.is_admin, zone_name)
        if found is None:
            end_session(request)
    request.state.viewer = found
    return found


def viewer(request: Request) -> Viewer:
    """Dependency for every console page: the logged-in viewer, or a redirect to the log-in page."""
    found = current_viewer(request)
    if found is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target if request.method == "GET" else "/incidents")
    return found


def flash(request: Request, text: str, kind: str = "ok") -> None:
    """A message shown once on the next page (kind: ok or error)."""
    messages = list(request.session.get("flash", []))
    messages.append([kind, text[:300]])
    request.session["flash"] = messages[-3:]  # the cookie stays well under browsers' 4 KB


def pop_flashes(request: Request) -> list[tuple[str, str]]:
    messages = request.session.pop("flash", [])
    return [(str(kind), str(text)) for kind, text in messages]
