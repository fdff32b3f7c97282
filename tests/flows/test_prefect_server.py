"""A real Prefect server on loopback, a process work pool and a worker: a playbook runs through a deployment."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from tocsin.models.playbook_run import PlaybookRun

from tests.helpers import add_people, ok, wait_for
from tocsin.db.engine import session_scope

ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
PLAYBOOK = """
name: via-deployment
version: 1
kind: breach
title: Runs its second phase through a Prefect deployment
roles: [commander]
steps:
  - {id: obligations, type: compute_obligations}
  - {id: war-room, type: open_channel, invite: [commander]}
  - {id: settle, type: wait_until, at: {after: declared, hours: 0}}
  - {id: investigate, type: set_status, status: investigating}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _healthy(api: str) -> bool:
    with urllib.request.urlopen(f"{api}/health", timeout=2) as response:
        return response.status == 200


@pytest.mark.slow
def test_playbook_runs_through_a_deployment_and_a_worker(tocsin_home: Path, tmp_path: Path, monkeypatch) -> None:
    """On the default SQLite database (Tocsin's own data layer is tested on PostgreSQL elsewhere)."""
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "TOCSIN_REPO": str(ROOT),
        "TOCSIN_MENTIONS_FILE": str(tmp_path / "mentions.jsonl"),
    }
    log = (tmp_path / "prefect.log").open("ab")
    server = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = None
    try:
        wait_for(lambda: _healthy(api), 180, "the Prefect server", every=0.5)
        subprocess.run(
            [PREFECT, "work-pool", "create", "tocsin", "--type", "process"],
            env=env,
            check=True,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=120,
        )
        subprocess.run(
            [PREFECT, "--no-prompt", "deploy", "--all"],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=300,
        )
        worker = subprocess.Popen(
            [PREFECT, "worker", "start", "--pool", "tocsin"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        playbook = tmp_path / "via-deployment.yaml"
        playbook.write_text(PLAYBOOK)
        add_people("alice")
        incident = ok("declare", "--title", "Laptop stolen", "--commander", "alice", "--json").json()["id"]
        monkeypatch.setenv("PREFECT_API_URL", api)
        monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
        launched = ok("launch", str(playbook), "--incident", str(incident), "--as", "alice", "--json").json()
        assert launched["urgent"] == "running"  # obligations and channel inline; then the deployment
        assert launched["handed_to"].startswith("deployment tocsin-playbook/playbook, flow run ")

        def finished() -> bool:
            with session_scope() as session:
                run = session.get(PlaybookRun, launched["run"])
                assert run is not None
                session.refresh(run)
                return run.status == "completed"

        wait_for(finished, 240, "the worker to run the playbook's flow", every=0.5)
        shown = ok("show", str(incident), "--json").json()
        assert shown["status"] == "investigating"
        actions = [e["action"] for e in shown["timeline"]]
        assert "playbook.flow_run" in actions and actions[-1] == "playbook.completed"
    finally:
        for process in (worker, server):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        log.close()
