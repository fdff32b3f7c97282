"""How fast the everyday commands start: `tocsin --help` and `tocsin incidents` (no flow, no Prefect).

Runs each command as a fresh process, as a user would, against a scratch TOCSIN_HOME holding 200
incidents, and prints the median of N runs next to the bare interpreter's start-up for scale.
Usage: .venv/bin/python bench/cli_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOCSIN = ROOT / ".venv" / "bin" / "tocsin"


def timed(command: list[str], env: dict[str, str], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - started)
    return samples


def seed(env: dict[str, str], count: int) -> None:
    script = (
        "from datetime import UTC, datetime, timedelta\n"
        "from tocsin.db.engine import session_scope\n"
        "from tocsin.incidents.service import Declaration, declare\n"
        "from tocsin.models import IncidentKind, Severity\n"
        f"for n in range({count}):\n"
        "    with session_scope() as s:\n"
        "        declare(s, Declaration(kind=IncidentKind.breach, title=f'Incident {n}', severity=Severity.SEV3,\n"
        "            aware_at=datetime.now(UTC) - timedelta(hours=n), commander='alice', facts={}), actor='bench')\n"
    )
    subprocess.run([sys.executable, "-c", script], env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "TOCSIN_HOME": home, "TOCSIN_TIMEZONE": "UTC", "COLUMNS": "120"}
        env.pop("TOCSIN_DATABASE_URL", None)
        seed(env, 200)
        baseline = statistics.median(timed([sys.executable, "-c", "pass"], env, args.runs))
        rows = [
            ("python -c pass", baseline),
            ("tocsin --help", statistics.median(timed([str(TOCSIN), "--help"], env, args.runs))),
            ("tocsin incidents (200)", statistics.median(timed([str(TOCSIN), "incidents"], env, args.runs))),
            (
                "tocsin incidents --json",
                statistics.median(timed([str(TOCSIN), "incidents", "--json"], env, args.runs)),
            ),
        ]
    print(f"{'command':28} {'median s':>9} {'x python':>9}   ({args.runs} runs each)")
    for name, seconds in rows:
        print(f"{name:28} {seconds:9.3f} {seconds / baseline:9.1f}")


if __name__ == "__main__":
    main()
