"""Request bodies over the limit are refused with 413 before the app reads them: a declared Content-Length at
once (the app is never called), a chunked body at the first chunk past the limit (nothing more is read). A file
upload (`POST /api/uploads`, the console's launch form) is read only once the caller is known and may upload."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
from starlette.types import Message, Receive, Scope, Send
from tocsin.web.body_limit import BodyLimitMiddleware, BodyLimits

from tests.web.conftest import Api, declare
from tests.web.test_request_guards import incident_count
from tests.web.test_slack import signed
from tocsin.core.config import Settings, get_settings

LIMIT = 1000


class Recorder:
    """An ASGI app that reads the whole body and answers 200 with its length."""

    def __init__(self) -> None:
        self.called = False
        self.body = b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.called = True
        while True:
            message = await receive()
            self.body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(len(self.body)).encode()})


def call(chunks: list[bytes], *, content_length: int | None) -> tuple[int, Recorder, int]:
    """(status, the app, how many chunks were read) for a POST sending `chunks`."""
    app = Recorder()
    middleware = BodyLimitMiddleware(app, BodyLimits(default=LIMIT))
    headers = [] if content_length is None else [(b"content-length", str(content_length).encode())]
    scope = {"type": "http", "method": "POST", "path": "/api/incidents", "headers": headers}
    pending = list(chunks)
    read = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal read
        read += 1
        body = pending.pop(0) if pending else b""
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def send(message: Message) -> None:
        sent.append(message)

    anyio.run(middleware, scope, receive, send)
    return int(sent[0]["status"]), app, read


def test_a_declared_length_over_the_limit_is_413_without_calling_the_app() -> None:
    status, app, read = call([b"x" * (LIMIT + 1)], content_length=LIMIT + 1)
    assert (status, app.called, read) == (413, False, 0)


def test_a_chunked_body_over_the_limit_stops_being_read_at_the_limit() -> None:
    chunks = [b"x" * 400] * 100  # 40 kB without a Content-Length
    status, _, read = call(chunks, content_length=None)
    assert status == 413 and read == 3  # 1200 bytes: the third chunk passed the limit; 97 were never read


def test_bodies_within_the_limit_reach_the_app_whole() -> None:
    status, app, _ = call([b"a" * 500, b"b" * 500], content_length=None)
    assert (status, app.body) == (200, b"a" * 500 + b"b" * 500)
    status, app, _ = call([b"c" * LIMIT], content_length=LIMIT)
    assert (status, len(app.body)) == (200, LIMIT)


def test_a_content_length_that_is_not_a_number_is_400() -> None:
    app = Recorder()
    middleware = BodyLimitMiddleware(app, BodyLimits(default=LIMIT))
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {"type": "http", "method": "POST", "path": "/", "headers": [(b"content-length", b"1e9")]}
    anyio.run(middleware, scope, receive, send)
    assert sent[0]["status"] == 400 and not app.called


def test_the_limits_follow_the_settings_per_path() -> None:
    limits = BodyLimits.from_settings(Settings())
    assert limits.for_path("/api/incidents") == 1 << 20
    assert limits.for_path("/slack/actions") == 512 << 10
    assert limits.for_path("/webhooks/sendgrid") == 4 << 20
    assert limits.for_path("/incidents/INC-4/launch") == 200 << 20  # the console's recipient / mention uploads
    assert limits.for_path("/api/uploads") == 200 << 20  # the API's
    assert limits.for_path("/api/uploads/x") == 1 << 20
    assert limits.for_path("/api/mentions") == 32 << 20
    custom = BodyLimits.from_settings(Settings(web_max_body_bytes=10, web_max_upload_bytes=20))
    assert (custom.for_path("/api/people"), custom.for_path("/incidents/7/launch")) == (10, 20)


def test_the_app_refuses_oversized_bodies_before_authentication(api: Api) -> None:
    big = b"x" * ((512 << 10) + 1)
    slack = api.client.post(
        "/slack/actions", content=big, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert slack.status_code == 413 and "limit" in slack.json()["error"]  # not 401: the body was never read
    huge = b'{"title": "' + b"x" * (1 << 20) + b'", "severity": "SEV1", "commander": "alice"}'
    assert api.post("/api/incidents", content=huge).status_code == 413
    assert api.client.post("/webhooks/sendgrid", content=b"[" + b" " * (4 << 20) + b"]").status_code == 413
    assert incident_count() == 0


def test_a_chunked_body_over_the_limit_is_413(api: Api) -> None:
    def stream() -> Iterator[bytes]:
        yield b'{"title": "'
        for _ in range(40):
            yield b"x" * 32768
        yield b'", "severity": "SEV1", "commander": "alice"}'

    response = api.post("/api/incidents", content=stream(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and incident_count() == 0


def test_normal_requests_are_unaffected(api: Api) -> None:
    declared = api.post("/api/incidents", json={"title": "Small", "severity": "SEV2", "commander": "alice"})
    assert declared.status_code == 201
    body = b"command=%2Ftocsin&text=help&user_id=U0ALICE"
    assert api.client.post("/slack/commands", content=body, headers=signed(body)).status_code == 200
    # The launch form takes files larger than the default limit (it is then refused for want of a log-in).
    upload = {"recipients": ("r.csv", b"email\n" + b"a@example.org\n" * 150_000, "text/csv")}
    launched = api.client.post(f"/incidents/INC-{declared.json()['id']}/launch", files=upload, follow_redirects=False)
    assert launched.status_code in (303, 401, 403), launched.text


BOUNDARY = "tocsin-test-boundary"
MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
CHUNK = 1 << 20


class StreamedUpload:
    """A multipart body with one recipients file of about `size` bytes (good rows), streamed in 1 MiB chunks
    without a Content-Length; `consumed` counts the bytes the server pulled from it."""

    def __init__(self, size: int) -> None:
        self.rows = size // CHUNK
        self.consumed = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="people.csv"\r\n'
            "Content-Type: text/csv\r\n\r\nemail\n"
        ).encode()
        row = b"ana@example.org\n" * (CHUNK // 16)
        for part in (head, *([row] * self.rows), f"\r\n--{BOUNDARY}--\r\n".encode()):
            self.consumed += len(part)
            yield part


def post_streamed(api: Api, path: str, body: StreamedUpload, headers: dict[str, str]) -> httpx.Response:
    """POST the streamed body to the running app as the client would (the transport pulls chunks only as the
    app reads them)."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=api.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://tocsin") as client:
            return await client.post(path, content=body.chunks(), headers={**MULTIPART, **headers})

    return anyio.run(send)


def test_an_unauthenticated_upload_is_refused_before_its_body_is_read(api: Api) -> None:
    incident = declare(api)["id"]
    refusals = {
        "/api/uploads": ({}, 401),
        "/api/uploads ": ({"Authorization": "Bearer not-a-token"}, 401),
        f"/incidents/{incident}/launch": ({}, 303),  # the console: to the log-in page
        "/api/uploads  ": (api.auth("bob"), 403),  # a token, but no role that launches or gives inputs
    }
    for path, (headers, status) in refusals.items():
        body = StreamedUpload(50 << 20)
        answer = post_streamed(api, path.strip(), body, headers)
        assert answer.status_code == status, (path, answer.text)
        assert body.consumed == 0, f"{path}: {body.consumed} bytes read before the refusal"
    assert not (get_settings().home / "uploads").exists()


def test_an_authorised_upload_is_read_whole(api: Api) -> None:
    declare(api)  # alice commands an open incident: she may upload
    body = StreamedUpload(3 << 20)
    answer = post_streamed(api, "/api/uploads", body, api.auth("alice"))
    assert answer.status_code == 201, answer.text
    stored = get_settings().home / "uploads" / answer.json()["id"] / "recipients.csv"
    assert body.consumed > 3 << 20 and stored.stat().st_size == body.rows * CHUNK + len("email\n")
