"""A real `tocsin serve` for the client-mode tests: its own home and SQLite database, on a free loopback port,
one per module. Its directory starts with one admin, `root`, made on the server's machine the way an operator
does on a fresh install (`tocsin people add root --admin` in local mode, then a console password)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import ROOT

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Server:
    url: str
    home: Path
    env: dict[str, str]
    log: Path

    def local(self, *args: str, stdin: str | None = None, user: str = "root") -> subprocess.CompletedProcess[str]:
        """A command on the server's machine, in local mode (the operator at the server's own database)."""
        return subprocess.run(
            [sys.executable, "-m", "tocsin", *args],
            env={**self.env, "TOCSIN_USER": user},
            cwd=ROOT,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("server") / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    env.update(
        TOCSIN_HOME=str(home),
        TOCSIN_DATABASE_URL=f"sqlite:///{home / 'tocsin.db'}",
        TOCSIN_LOGIN_FILE=str(home / "no-login.json"),  # the server's machine is not a client of anything
        TOCSIN_PLAYBOOK_EXECUTOR="inline",
        TOCSIN_TIMEZONE="UTC",
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = home.parent / "serve.log"
    made = Server(url, home, env, log)
    made.local("people", "add", "root", "--name", "Root Admin", "--email", "root@example.org", "--admin")
    made.local("people", "passwd", "root", "--password-stdin", stdin=PASSWORD + "\n")
    command = [sys.executable, "-m", "tocsin", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as output:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"tocsin serve did not start on {url}:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield made
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
