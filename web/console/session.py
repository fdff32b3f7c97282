"""Who is looking at the console: the log-in session kept on the server, and CSRF tokens for every form.

The browser's cookie (Starlette's SessionMiddleware, signed with itsdangerous) holds a random session id, the
CSRF token and pending flash messages; who is logged in is the server's `web_session` row behind that id
(`tocsin.people.web_sessions`). Logging out revokes the row, so a copied cookie is dead afterwards; a new or
removed password revokes every session of the person; a session ends after `web_session_idle_minutes` unused and
`web_session_hours` after log-in. The cookie is HttpOnly, SameSite=Lax, Secure with `web_https_only`. A tampered
cookie fails its signature and counts as no session at all.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from fastapi import Request
from starlette.datastructures import FormData

from tocsin.core.acting import Actor, Via
from tocsin.core.clocks import zone
from tocsin.core.config import Settings
from tocsin.core.errors import InvalidInput
from tocsin.db.engine import session_scope
from tocsin.people.server_key import server_secret
from tocsin.people.web_sessions import open_session, revoke_session, session_person

SESSION_COOKIE = "tocsin_session"
TZ_COOKIE = "tz"
CSRF_FIELD = "csrf_token"
SESSION_ID = "sid"  # the cookie's key for the server-side session id


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
    """The key that signs the cookie: `web_secret_key`, else one generated once into $TOCSIN_HOME/web-secret."""
    return server_secret(settings)


def start_session(request: Request, handle: str) -> None:
    """A fresh server-side session for a person who just logged in: any session the cookie named before is
    revoked, and nothing from before (CSRF token, flashes) carries over."""
    settings: Settings = request.app.state.settings
    end_session(request)
    with session_scope() as session:
        session_id = open_session(session, handle, lifetime=timedelta(hours=settings.web_session_hours))
    request.session.update({SESSION_ID: session_id, CSRF_FIELD: secrets.token_urlsafe(32)})


def end_session(request: Request) -> None:
    """Log out: the server-side session is revoked (a copy of the cookie is worth nothing), the cookie emptied."""
    session_id = request.session.get(SESSION_ID)
    if isinstance(session_id, str) and session_id:
        with session_scope() as session:
            revoke_session(session, session_id)
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
    """The logged-in viewer, or None (no cookie, or its server-side session is revoked, expired or idle)."""
    cached: Any = getattr(request.state, "viewer", False)
    if cached is not False:
        return cached
    found: Viewer | None = None
    session_id = request.session.get(SESSION_ID)
    if isinstance(session_id, str) and session_id:
        settings: Settings = request.app.state.settings
        with session_scope() as session:
            person = session_person(session, session_id, idle=timedelta(minutes=settings.web_session_idle_minutes))
            if person is not None:
                zone_name = display_zone_for(request, person.timezone)
                found = Viewer(person.handle, person.name, person.is_admin, zone_name)
        if found is None:
            request.session.clear()  # a dead session: the cookie forgets it
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
