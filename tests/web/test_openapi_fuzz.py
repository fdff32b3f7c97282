"""Schemathesis against the app's own OpenAPI document, in-process (ASGI): every operation, with an admin's
token so the authenticated paths are exercised, answers generated requests without a server error.
Deterministic (derandomized) and bounded (a few examples per operation, no deadline)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.web.conftest import Api, add_person, declare

pytestmark = pytest.mark.fuzz

EXAMPLES_PER_OPERATION = 6
FUZZ = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def test_no_operation_answers_generated_requests_with_a_server_error(api: Api) -> None:
    admin = add_person(api, "root", admin=True)
    declare(api)  # INC-1 exists, so some generated ids name a real incident
    auth = api.auth(admin)
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.client.app)
    failures: list[str] = []
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @FUZZ
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            response = case.call(headers={**(case.headers or {}), **auth})
            case.validate_response(response, checks=[not_a_server_error])

        try:
            check()
        except Exception as failure:  # collect every operation's failure, not only the first
            failures.append(f"{operation.method.upper()} {operation.path}: {str(failure)[:600]}")
        checked += 1
    assert checked >= 40  # the API, Slack and webhook operations
    assert failures == [], "\n\n".join(failures)
