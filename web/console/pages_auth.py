"""Logging in and out of the console: GET/POST /login, POST /logout, / (to the incidents) and /favicon.ico."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData
from tocsin.web.auth import client_address
from tocsin.web.console.render import page
from tocsin.web.console.session import checked_form, current_viewer, end_session, start_session

from tocsin.core.config import Settings
from tocsin.db.engine import session_scope
from tocsin.people.passwords import LoginRefused, Throttle, authenticate

router = APIRouter()
CheckedForm = Annotated[FormData, Depends(checked_form)]


def safe_next(target: str | None) -> str:
    """Only a path on this site (never `//host` or a full URL): no open redirect after logging in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/incidents"
    return target


@router.get("/")
def home() -> Response:
    return RedirectResponse("/incidents", status_code=303)


@router.get("/favicon.ico")
def favicon() -> Response:
    """Browsers and tools that ask for /favicon.ico get the console's SVG icon (pages link it directly)."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    if current_viewer(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return page(request, "login.html", {"next": safe_next(next), "handle": ""})


@router.post("/login")
def login(request: Request, form: CheckedForm) -> Response:
    settings: Settings = request.app.state.settings
    handle = str(form.get("handle") or "").strip()
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or ""))
    throttle = Throttle(settings.web_login_attempts, timedelta(minutes=settings.web_lockout_minutes))
    client = client_address(request)
    try:
        with session_scope() as session:
            person_handle = authenticate(session, handle, password, client=client, throttle=throttle).handle
    except LoginRefused as refused:
        status = 429 if refused.throttled else 401
        context = {"next": target, "handle": handle[:64], "error": str(refused)}
        return page(request, "login.html", context, status_code=status)
    start_session(request, person_handle)
    request.state.viewer = False  # forget the anonymous viewer of this request
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, _form: CheckedForm) -> Response:
    end_session(request)  # revokes the server-side session: a copy of the cookie no longer logs in
    return RedirectResponse("/login", status_code=303)
