"""Shared machinery of the fakes: a threaded loopback HTTP server, fault injection and a rate limiter."""

from __future__ import annotations

import math
import socketserver
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self


@dataclass(frozen=True, slots=True)
class Fault:
    """What the next matching request gets instead of a normal answer.

    status: answer with this HTTP status (429, 500, 503, ...) and the fake's usual error body.
    delay: wait this long before answering (longer than the client timeout = a timeout on the client).
    accept_after_delay: after the delay, process the request normally (it "went through" although the
        client gave up) - the case that makes a retry deliver twice.
    retry_after: Retry-After header (seconds). reset_in: X-RateLimit-Reset = now + reset_in (epoch seconds).
    route: only requests to this path suffix (e.g. "chat.postMessage"); None = any request.
    """

    status: int | None = None
    delay: float = 0.0
    accept_after_delay: bool = False
    retry_after: float | None = None
    reset_in: float | None = None
    route: str | None = None


class FaultPlan:
    """A thread-safe queue of faults; each request takes the first fault whose route matches."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: deque[Fault] = deque()

    def add(self, fault: Fault, count: int = 1) -> None:
        with self._lock:
            self._faults.extend([fault] * count)

    def take(self, route: str) -> Fault | None:
        if not self._faults:  # fast path: no lock when nothing is planned
            return None
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.route is None or route.endswith(fault.route):
                    del self._faults[index]
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def __len__(self) -> int:
        return len(self._faults)


class WindowRateLimiter:
    """At most `limit` requests per fixed window of `window` seconds (like SendGrid's refresh period)."""

    def __init__(self, limit: int, window: float = 1.0, clock: Any = time.time) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._window_start = 0.0
        self._used = 0

    def hit(self) -> tuple[bool, int, float]:
        """(allowed, remaining, reset epoch seconds) for one more request now."""
        with self._lock:
            now = self._clock()
            if now - self._window_start >= self.window:
                self._window_start = now - (now % self.window)
                self._used = 0
            reset = self._window_start + self.window
            if self._used >= self.limit:
                return False, 0, reset
            self._used += 1
            return True, self.limit - self._used, reset


class QuietHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1, no logging, no Nagle delay: the per-request overhead stays tiny."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    fake: ClassVar[Any] = None

    def log_message(self, format: str, *args: Any) -> None:
        return

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def respond(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout): nothing to tell
            self.close_connection = True


def reset_header(reset_in: float) -> str:
    return str(math.ceil(time.time() + reset_in))


class LoopbackHTTPServer(ThreadingHTTPServer):
    """No reverse DNS lookup at bind (HTTPServer calls socket.getfqdn, which can stall for seconds)."""

    daemon_threads = True
    block_on_close = False

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class FakeServer:
    """Lifecycle shared by the fakes: `start()`/`stop()` or `with Fake() as fake:`; `url` once started."""

    handler_class: ClassVar[type[QuietHandler]]

    def __init__(self) -> None:
        self.faults = FaultPlan()
        self.rate_limiter: WindowRateLimiter | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("fake server is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        handler = type(f"Bound{self.handler_class.__name__}", (self.handler_class,), {"fake": self})
        server = LoopbackHTTPServer(("127.0.0.1", 0), handler)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- failure controls ---------------------------------------------------------------------------------

    def fail_next(
        self,
        count: int,
        status: int,
        *,
        retry_after: float | None = None,
        reset_in: float | None = None,
        route: str | None = None,
    ) -> None:
        """The next `count` requests (to `route`, if given) get `status` instead of being processed."""
        self.faults.add(Fault(status=status, retry_after=retry_after, reset_in=reset_in, route=route), count)

    def delay_next(
        self, count: int, seconds: float, *, accept_after_delay: bool = False, route: str | None = None
    ) -> None:
        """The next `count` requests wait `seconds` before any answer (make it exceed the client timeout)."""
        self.faults.add(Fault(delay=seconds, accept_after_delay=accept_after_delay, route=route), count)

    def rate_limit(self, limit: int | None, window: float = 1.0) -> None:
        """Allow at most `limit` requests per `window` seconds (None turns the limit off)."""
        self.rate_limiter = WindowRateLimiter(limit, window) if limit is not None else None
