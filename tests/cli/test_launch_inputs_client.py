"""`tocsin launch -i recipients=FILE.csv` as a client of a real `tocsin serve`: the local file is uploaded first
and the launch names the upload; the server never receives (or opens) a path of its own."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.cli.conftest import PASSWORD, Server
from tests.helpers import ok, run_cli

ROWS = "email,name\nana@example.org,Ana\n"


def test_the_client_uploads_local_files_and_never_sends_a_path(server: Server, tmp_path: Path) -> None:
    server.local("people", "add", "alice", "--email", "alice@example.org")
    server.local("people", "passwd", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    ok("login", server.url, "--handle", "alice", "--password-stdin", stdin=PASSWORD + "\n")
    ident = str(ok("declare", "--title", "Stolen laptop", "--json").json()["id"])
    local = tmp_path / "people.csv"
    local.write_text(ROWS)

    missing = run_cli("launch", "data-breach", "--incident", ident, "-i", f"recipients={tmp_path / 'nope.csv'}")
    assert missing.exit_code == 2 and "cannot read the recipients file" in missing.stderr
    inputs = ("-i", f"recipients={local}", "-i", "summary=x")
    run = ok("launch", "data-breach", "--incident", ident, *inputs, "--json").json()["run"]

    with sqlite3.connect(server.home / "tocsin.db") as database:
        [(inputs,)] = database.execute("SELECT inputs FROM playbook_run WHERE id = ?", (run,)).fetchall()
    stored = Path(json.loads(inputs)["recipients"])
    assert stored.parent.parent == server.home / "uploads" and stored.read_text() == ROWS
    assert str(local) not in inputs
