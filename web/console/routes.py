"""`install_console(app, settings)`: the web console inside the app of `tocsin serve`.

Adds the signed session cookie, the static files at /static, the console's page routers, and the error
handling of pages: no log-in → 303 to /login, a form without a valid CSRF token → 403 page, a Tocsin
error → a page with its message (the JSON API, Slack and webhook paths keep their JSON errors).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from tocsin.web.console import (
    pages_approvals,
    pages_auth,
    pages_incident,
    pages_incidents,
    pages_launch,
    pages_waves,
)
from tocsin.web.console.render import STATIC, page
from tocsin.web.console.session import SESSION_COOKIE, CsrfRefused, LoginRequired, secret_key
from tocsin.web.errors import _http_error, _tocsin_error, status_for

from tocsin.core.config import Settings
from tocsin.core.errors import TocsinError

# Each module has a `router`; the console's pages are these routers (not in the OpenAPI schema).
ROUTERS: list[Any] = [
    pages_auth.router,
    pages_incidents.router,
    pages_launch.router,
    pages_incident.router,
    pages_approvals.router,
    pages_waves.router,
]
NOT_CONSOLE = ("/api", "/slack", "/webhooks", "/docs", "/redoc", "/openapi.json", "/static")


def is_console(request: Request) -> bool:
    return not request.url.path.startswith(NOT_CONSOLE)


def back_link(request: Request) -> str:
    """Where the error page's "back" link goes: the page the viewer came from when it is on this site (the
    Referer, same scheme and host; for a refused form, the page that showed it), else the incidents list."""
    referer = request.headers.get("referer") or ""
    came_from = urlsplit(referer)
    here = request.url
    if came_from.scheme != here.scheme or came_from.netloc != here.netloc:
        return "/incidents"
    path = came_from.path + (f"?{came_from.query}" if came_from.query else "")
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/incidents"
    if request.method == "GET" and came_from.path == here.path:  # the missing page itself: nowhere to go back to
        return "/incidents"
    return path


def error_page(request: Request, status: int, message: str, title: str = "Something went wrong") -> Response:
    context = {"title": title, "message": message, "status": status, "back": back_link(request)}
    return page(request, "error.html", context, status_code=status)


def install_console(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(settings),
        session_cookie=SESSION_COOKIE,
        max_age=int(settings.web_session_hours * 3600),
        same_site="lax",
        https_only=settings.web_https_only,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in ROUTERS:
        app.include_router(router, include_in_schema=False)

    async def login_required(_request: Request, error: Exception) -> Response:
        assert isinstance(error, LoginRequired)
        return RedirectResponse(error.location, status_code=303)

    async def csrf_refused(request: Request, error: Exception) -> Response:
        return error_page(request, 403, str(error), "Form refused")

    async def tocsin_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, TocsinError)
        if not is_console(request):
            return _tocsin_error(request, error)
        titles = {403: "Not allowed", 404: "Not found", 409: "Changed meanwhile", 422: "Cannot do that"}
        status = status_for(error)
        return error_page(request, status, str(error), titles.get(status, "Something went wrong"))

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if not is_console(request):
            return _http_error(request, error)
        return error_page(request, error.status_code, str(error.detail), "Cannot show this page")

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(CsrfRefused, csrf_refused)
    app.add_exception_handler(TocsinError, tocsin_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
