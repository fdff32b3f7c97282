"""Declare → incident channel opened + first escalation paged + obligations computed.

Cold: a fresh `tocsin declare ... --playbook data-breach` process on the embedded defaults (SQLite, no
server), timed until the command returns (the urgent steps run before it returns; the rest of the
playbook is handed to Prefect afterwards, so Prefect's cold start is not on this path).
Warm: the same work in a process that is already running (what the web service and Slack handlers do):
imports loaded, database connections pooled. Medians of N runs; goal ≤ 3 s warm.
Usage: .venv/bin/python bench/declare_latency.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOCSIN = ROOT / ".venv" / "bin" / "tocsin"


def facts(aware: datetime) -> dict:
    stamp = aware.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "entity": {
            "name": "Boutique SAS",
            "roles": ["controller"],
            "main_establishment": "FR",
            "uk_establishment": True,
            "timezone": "Europe/Paris",
        },
        "facts": {
            "personal_data_breach": True,
            "likely_high_risk_to_individuals": True,
            "data_subjects": {"FR": 4000, "GB": 200},
            "breach_of_unencrypted_pi": True,
            "residents_affected": {"CA": 700},
        },
        "events": {"aware_personal_data_breach": stamp, "state_breach_discovered": stamp},
    }


def staff(env: dict[str, str]) -> None:
    for handle in ("alice", "bob", "carol", "dana", "erin"):
        subprocess.run(
            [str(TOCSIN), "people", "add", handle, "--email", f"{handle}@shop.example"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def cold(runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as home:
            env = {
                **os.environ,
                "TOCSIN_HOME": home,
                "TOCSIN_PLAYBOOK_EXECUTOR": "inline",
                "TOCSIN_DEFAULT_COMMANDER": "alice",
            }
            env.pop("TOCSIN_DATABASE_URL", None)
            subprocess.run([str(TOCSIN), "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
            staff(env)
            path = Path(home) / "facts.json"
            path.write_text(json.dumps(facts(datetime.now(UTC) - timedelta(hours=1))))
            started = time.perf_counter()
            out = subprocess.run(
                [
                    str(TOCSIN),
                    "declare",
                    "--title",
                    "Bench breach",
                    "--facts",
                    str(path),
                    "--playbook",
                    "data-breach",
                    "--json",
                ],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            samples.append(time.perf_counter() - started)
            assert json.loads(out.stdout)["playbook_run"]["urgent"] == "waiting"
    return samples


def warm(runs: int) -> list[float]:
    with tempfile.TemporaryDirectory() as home:
        os.environ.update({"TOCSIN_HOME": home, "TOCSIN_PLAYBOOK_EXECUTOR": "inline"})
        os.environ.pop("TOCSIN_DATABASE_URL", None)
        from tocsin.flows.launch import launch, start_urgent
        from tocsin.models import IncidentKind, Severity

        from tocsin.db.engine import session_scope
        from tocsin.incidents.service import Declaration, declare
        from tocsin.people.directory import upsert_person

        with session_scope() as session:
            for handle in ("alice", "bob", "carol", "dana", "erin"):
                upsert_person(session, handle, email=f"{handle}@shop.example")
        samples = []
        for n in range(runs + 1):
            aware = datetime.now(UTC) - timedelta(hours=1)
            started = time.perf_counter()
            with session_scope() as session:
                incident = declare(
                    session,
                    Declaration(IncidentKind.breach, f"Bench {n}", Severity.SEV1, aware, "alice", facts(aware)),
                    actor="alice",
                )
                incident_id = incident.id or 0
            assert start_urgent(launch(incident_id, "data-breach", actor="alice")) == "waiting"
            if n:  # the first one warms the caches (rule table, templates, playbook)
                samples.append(time.perf_counter() - started)
        return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    cold_samples = cold(args.runs)
    warm_samples = warm(args.runs)
    print(f"load average: {os.getloadavg()[0]:.1f}")
    print(
        f"cold `tocsin declare --playbook data-breach` (process): median {statistics.median(cold_samples):.2f} s "
        f"(min {min(cold_samples):.2f}, max {max(cold_samples):.2f}; {args.runs} runs)"
    )
    print(
        f"warm (running service, in-process): median {statistics.median(warm_samples) * 1000:.0f} ms "
        f"(min {min(warm_samples) * 1000:.0f}, max {max(warm_samples) * 1000:.0f}); goal ≤ 3 s → "
        f"{statistics.median(warm_samples) / 3:.2f}× the goal"
    )


if __name__ == "__main__":
    sys.exit(main())
