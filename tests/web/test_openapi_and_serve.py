"""The OpenAPI document lists every route, and `tocsin serve` really serves (a subprocess on loopback)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.web.conftest import Api

ROUTES = {
    ("get", "/api/health"),
    ("get", "/api/incidents"),
    ("post", "/api/incidents"),
    ("get", "/api/incidents/{incident}"),
    ("post", "/api/incidents/{incident}/status"),
    ("post", "/api/incidents/{incident}/roles"),
    ("post", "/api/incidents/{incident}/playbooks"),
    ("put", "/api/incidents/{incident}/facts"),
    ("get", "/api/incidents/{incident}/clock"),
    ("get", "/api/incidents/{incident}/timeline"),
    ("post", "/api/incidents/{incident}/events"),
    ("get", "/api/incidents/{incident}/drafts"),
    ("get", "/api/drafts/{draft}"),
    ("post", "/api/drafts/{draft}/approve"),
    ("post", "/api/drafts/{draft}/reject"),
    ("get", "/api/incidents/{incident}/escalations"),
    ("post", "/api/escalations/{escalation}/ack"),
    ("post", "/api/mentions"),
    # issue #14: one door per action, every action over HTTP
    ("post", "/api/incidents/{incident}/close"),
    ("delete", "/api/incidents/{incident}/roles/{role}/{person}"),
    ("post", "/api/incidents/{incident}/drafts"),
    ("post", "/api/drafts/{draft}/edit"),
    ("post", "/api/drafts/{draft}/review"),
    ("post", "/api/drafts/{draft}/sent"),
    ("get", "/api/incidents/{incident}/runs"),
    ("post", "/api/runs/{run}/inputs"),
    ("get", "/api/incidents/{incident}/tasks"),
    ("post", "/api/tasks/{task}/done"),
    ("get", "/api/people"),
    ("post", "/api/people"),
    ("post", "/api/people/{handle}/admin"),
    ("put", "/api/people/{handle}/password"),
    ("delete", "/api/people/{handle}/password"),
    ("get", "/api/tokens"),
    ("post", "/api/tokens"),
    ("delete", "/api/tokens/{token}"),
    ("get", "/api/suppressions"),
    ("post", "/api/suppressions"),
    ("post", "/api/login"),
    ("get", "/api/me"),
    ("post", "/api/uploads"),
    ("get", "/api/incidents/{incident}/waves/in-doubt"),
    ("post", "/api/incidents/{incident}/waves/in-doubt"),
    ("post", "/slack/actions"),
    ("post", "/slack/commands"),
    ("post", "/webhooks/sendgrid"),
}


def test_openapi_lists_the_routes_and_the_bearer_scheme(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    listed = {(method, path) for path, item in document["paths"].items() for method in item}
    assert listed == ROUTES
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    approve = document["paths"]["/api/drafts/{draft}/approve"]["post"]
    assert approve["security"] == [{"HTTPBearer": []}]
    assert "security" not in document["paths"]["/slack/actions"]["post"]
    assert "security" not in document["paths"]["/api/login"]["post"]  # a password, not a token
    approve_body = document["components"]["schemas"]["ApproveBody"]
    assert "sha256" in approve_body["required"] and approve_body["properties"]["sha256"]["description"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_tocsin_serve_answers_health_on_loopback(tocsin_home: Path) -> None:
    port = free_port()
    tocsin = Path(sys.executable).parent / "tocsin"
    env = {**os.environ, "TOCSIN_HOME": str(tocsin_home), "TOCSIN_DATABASE_URL": f"sqlite:///{tocsin_home}/s.db"}
    server = subprocess.Popen(
        [str(tocsin), "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[0].decode()
                assert time.monotonic() < deadline, "tocsin serve did not answer within 30 s"
                time.sleep(0.2)
        assert response.status_code == 200 and response.json()["status"] == "ok"
        assert httpx.get(f"http://127.0.0.1:{port}/api/incidents", timeout=2).status_code == 401
    finally:
        server.terminate()
        output = server.communicate(timeout=15)[0].decode()
    assert f"Tocsin serving on http://127.0.0.1:{port}" in output
