"""`tocsin wave in-doubt` and `tocsin wave resolve` as a client of a real `tocsin serve` (after `tocsin login`):
the same answers and exit codes as locally, through `/api/incidents/{id}/waves/in-doubt`, as the person of the
token; an empty `--reason` is refused before the server is asked; nothing touches a local database."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import PASSWORD, Server
from tests.helpers import ROOT, ok, run_cli

# On the server's machine: an incident (alice commands, lena is legal, carl comms) whose wave died with its
# request in flight, then rerun: its 3 rows are held (the wave tests' own helpers, on the server's database).
HELD_ON_THE_SERVER = """
from pathlib import Path
from tests.wave.conftest import declare_incident, draft_for, people, write_csv
from tests.wave.test_in_doubt import DiesMidRequest, crashed_wave
from tests.wave.test_wave import run

incident = declare_incident()
draft = draft_for(incident)
path = write_csv(Path({folder!r}) / "r.csv", people(3))
crashed_wave(incident, draft, path)
assert run(incident, [draft], path, DiesMidRequest()).held == 3
print(incident)
"""


@pytest.fixture(autouse=True)
def no_local_database(tocsin_home: Path) -> Iterator[None]:
    yield
    assert not list(tocsin_home.rglob("*.db")), "a client-mode command opened the local database"


def held_incident(server: Server, folder: Path) -> str:
    made = subprocess.run(
        [sys.executable, "-c", HELD_ON_THE_SERVER.format(folder=str(folder))],
        env={**server.env, "TOCSIN_USER": "root"}, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    for handle in ("alice", "lena"):
        server.local("people", "passwd", handle, "--password-stdin", stdin=PASSWORD + "\n")
    return made.stdout.strip()


def login(server: Server, handle: str) -> None:
    ok("login", server.url, "--handle", handle, "--password-stdin", stdin=PASSWORD + "\n")


def test_held_rows_are_listed_and_decided_through_the_server(server: Server, tmp_path: Path) -> None:
    ident = held_incident(server, tmp_path)
    login(server, "lena")  # legal: may read, may not decide
    listed = ok("wave", "in-doubt", ident, "--json").json()
    assert (listed["incident"], listed["held"]) == (f"INC-{ident}", 3) and [b["held"] for b in listed["batches"]] == [3]
    said = ok("wave", "in-doubt", f"INC-{ident}").stdout
    assert "batch" in said and "3 held (request posted" in said
    assert f"Decide: tocsin wave resolve INC-{ident} --resend|--skip --reason TEXT" in said
    refused = run_cli("wave", "resolve", ident, "--skip", "--reason", "legal thinks so")
    assert refused.exit_code == 4 and f"lena is not commander or comms on INC-{ident}" in refused.stderr
    claimed = run_cli("wave", "resolve", ident, "--skip", "--reason", "x", "--as", "alice")
    assert claimed.exit_code == 2 and "--as works in local mode only" in claimed.stderr

    login(server, "alice")  # the commander decides
    blank = run_cli("wave", "resolve", ident, "--skip", "--reason", " ")
    assert (blank.exit_code, blank.stderr) == (2, "error: --reason: say why: the decision is kept on the timeline\n")
    decided = ok("wave", "resolve", ident, "--skip", "--reason", "SendGrid Activity shows it taken", "--json").json()
    assert (decided["decision"], decided["skipped"], decided["failed"]) == ("skip", 3, 0)
    assert "nothing held in doubt" in ok("wave", "in-doubt", ident).stdout
    again = run_cli("wave", "resolve", ident, "--resend", "--reason", "twice")
    assert again.exit_code == 2 and "has no rows held in doubt; nothing to decide" in again.stderr

    events = ok("show", ident, "--json").json()["timeline"]
    resolved = [e for e in events if e["action"].startswith("notice.in_doubt_resolved")]
    by = [(e["actor"], e["action"], e["payload"]["via"]) for e in resolved]
    assert by == [("lena", "notice.in_doubt_resolved_refused", "api"), ("alice", "notice.in_doubt_resolved", "api")]
