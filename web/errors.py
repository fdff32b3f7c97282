"""Tocsin's errors as HTTP answers, always JSON `{"error": "..."}`.

InvalidInput → 422, NotFound → 404, Conflict → 409, Forbidden → 403; a forged or replayed Slack or
SendGrid request → 401; FastAPI's own validation errors and HTTP errors take the same shape.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from tocsin.notifications.sendgrid_events import ForgedSendGridEvent
from tocsin.notifications.slack_inbound import ForgedSlackRequest

from tocsin.core.errors import Conflict, Forbidden, InvalidInput, NotFound, TocsinError

log = logging.getLogger("tocsin.web")


def status_for(error: TocsinError) -> int:
    if isinstance(error, ForgedSlackRequest | ForgedSendGridEvent):
        return 401
    for kind, status in ((InvalidInput, 422), (NotFound, 404), (Conflict, 409), (Forbidden, 403)):
        if isinstance(error, kind):
            return status
    return 400


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _tocsin_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, TocsinError)
    status = status_for(error)
    # A client's mistake: one short line, never a traceback (a flood of bad requests must not flood the log).
    log.info("%s %s → %s: %.200s", request.method, request.url.path[:200], status, error)
    return error_response(status, str(error))


def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ()))
        problems.append(f"{where}: {item.get('msg', 'invalid')}")
    return error_response(422, "; ".join(problems) or "invalid request")


def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    return error_response(error.status_code, str(error.detail), dict(error.headers or {}))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TocsinError, _tocsin_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
