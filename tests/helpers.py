"""Running the real `tocsin` entry point in-process, as a user would, and capturing what it prints."""

from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from typing import Any


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
