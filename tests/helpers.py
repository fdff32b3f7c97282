"""Running the real `tocsin` entry point in-process, as a user would, and capturing what it prints."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(*args: str, stdin: str | None = None) -> CliResult:
    from tocsin.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved_argv, saved_stdin = sys.argv, sys.stdin
    sys.argv = ["tocsin", *args]
    if stdin is not None:
        sys.stdin = io.StringIO(stdin)
    code: int = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        sys.argv, sys.stdin = saved_argv, saved_stdin
    return CliResult(code, out.getvalue(), err.getvalue())


def ok(*args: str, stdin: str | None = None) -> CliResult:
    """Run and insist on success, showing what went wrong otherwise."""
    result = run_cli(*args, stdin=stdin)
    assert result.exit_code == 0, f"tocsin {' '.join(args)} failed ({result.exit_code}): {result.stderr}{result.stdout}"
    return result


def start_scheduler(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`tocsin scheduler run` as its own process group (so a test can SIGKILL it like a crash)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tocsin", "scheduler", "run"],
        env=env,
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for(condition: Callable[[], bool], timeout: float, what: str, *, every: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass  # e.g. a server that is not listening yet
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def send_email_through(fake_url: str, monkeypatch: Any) -> None:
    """Configure Tocsin's email channel for a SendGrid fake (the key the fakes accept) and reload settings."""
    from tocsin.core.config import get_settings

    monkeypatch.setenv("TOCSIN_SENDGRID_API_KEY", "SG.fake-key")
    monkeypatch.setenv("TOCSIN_SENDGRID_HOST", fake_url)
    get_settings.cache_clear()


def add_people(*handles: str, actor: str | None = None) -> None:
    """Put people in the directory through the CLI (on a fresh install, before any admin, the local operator may;
    afterwards `actor` must be an admin)."""
    for handle in handles:
        ok("people", "add", handle, *(["--as", actor] if actor else []))
