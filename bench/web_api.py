"""The HTTP service against a real `tocsin serve` (uvicorn, SQLite, loopback).

- request latency: health, the clock countdown, declare, and the same clock through a `tocsin clock --json`
  process (what a script paid before the service existed);
- Slack: time until a signed `/tocsin declare` is acknowledged (Slack's limit is 3 s; the declare itself
  runs after the answer);
- mentions: throughput of `POST /api/mentions` (JSONL batches of 500) against the same detector in-process.
Medians of N runs. Usage: .venv/bin/python bench/web_api.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
TOCSIN = ROOT / ".venv" / "bin" / "tocsin"
SECRET = "bench-signing-secret"
AWARE = "2026-11-20T10:00:00+01:00"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(call: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def slack_headers(body: bytes) -> dict[str, str]:
    from slack_sdk.signature import SignatureVerifier

    stamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


def mention_batches(run: int) -> list[str]:
    """Run r's stream starts 3 days after run r-1's: one long-lived detector sees fresh time each run."""
    from tocsin.sentiment.synthetic import RoutineProfile, Surge, mention_stream

    start = datetime(2026, 3, 2, tzinfo=UTC) + timedelta(days=3 * run)
    surge = Surge(start + timedelta(days=2, hours=14), peak_per_hour=600, ramp_minutes=10, hours=3)
    lines = [json.dumps(r) for r in mention_stream(start, 2.75, RoutineProfile(per_hour=30), (surge,), seed=4)]
    return ["\n".join(lines[i : i + 500]) for i in range(0, len(lines), 500)]


def in_process_scan(watch: object, batches: list[str]) -> None:
    from tocsin.sentiment.connectors import ingest_records

    for batch in batches:
        mentions, _ = ingest_records(batch.splitlines(), watch.key)  # type: ignore[attr-defined]
        watch.feed(None, mentions)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "TOCSIN_HOME": home, "TOCSIN_SLACK_SIGNING_SECRET": SECRET, "TOCSIN_USER": "alice",
               "TOCSIN_PLAYBOOK_EXECUTOR": "inline"}  # fmt: skip
        for handle, slack_id in (("alice", "U0ALICE"), ("lena", "U0LENA")):
            subprocess.run([str(TOCSIN), "people", "add", handle, "--slack-user", slack_id], env=env, check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip
        made = subprocess.run([str(TOCSIN), "token", "create", "alice", "--json"], env=env, check=True,
                              capture_output=True, text=True)  # fmt: skip
        auth = {"Authorization": f"Bearer {json.loads(made.stdout)['token']}"}
        port = free_port()
        server = subprocess.Popen([str(TOCSIN), "serve", "--port", str(port), "--log-level", "warning"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
            for _ in range(150):
                try:
                    client.get("/api/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            facts = (ROOT / "examples" / "sample-breach.yaml").read_text().replace("AWARE_AT", AWARE)
            import yaml

            body = {"title": "Bench", "aware_at": AWARE, "facts": yaml.safe_load(facts)}
            incident = client.post("/api/incidents", json=body, headers=auth).json()["id"]
            health = timed(lambda: client.get("/api/health"), runs)
            clock = timed(lambda: client.get(f"/api/incidents/{incident}/clock", headers=auth), runs)
            declare = timed(lambda: client.post("/api/incidents", json=body, headers=auth), runs)
            clock_command = [str(TOCSIN), "clock", str(incident), "--json"]
            cli_clock = timed(
                lambda: subprocess.run(clock_command, env=env, check=True, stdout=subprocess.DEVNULL), max(3, runs // 3)
            )
            command = urlencode({"command": "/tocsin", "user_id": "U0ALICE", "text": 'declare --title "Slack bench"'})
            slack = timed(lambda: client.post("/slack/commands", content=command.encode(),
                                              headers=slack_headers(command.encode())), runs)  # fmt: skip
            from tocsin.web.mentions import MentionWatch

            watch = MentionWatch(os.urandom(32))
            http_mentions, direct, count = [], [], 0
            for run in range(max(3, runs // 3)):
                batches = mention_batches(run)
                count = sum(len(b.splitlines()) for b in batches)
                start = time.perf_counter()
                for batch in batches:
                    client.post("/api/mentions", content=batch.encode(), headers=auth)
                http_mentions.append(time.perf_counter() - start)
                direct += timed(lambda b=batches: in_process_scan(watch, b), 1)
        finally:
            server.terminate()
            server.wait(timeout=15)
    print(f"runs: {runs} (requests), {max(3, runs // 3)} (processes, mention streams); Python {sys.version.split()[0]}")
    print(f"GET /api/health                      median {median_ms(health):7.1f} ms")
    print(f"GET /api/incidents/ID/clock          median {median_ms(clock):7.1f} ms")
    print(f"`tocsin clock ID --json` process      median {median_ms(cli_clock):7.1f} ms  "
          f"(x{statistics.median(cli_clock) / statistics.median(clock):.1f} the API call)")  # fmt: skip
    print(f"POST /api/incidents (declare+facts)  median {median_ms(declare):7.1f} ms")
    print(f"POST /slack/commands acknowledged    median {median_ms(slack):7.1f} ms  (Slack allows 3000 ms)")
    http_rate = count / statistics.median(http_mentions)
    direct_rate = count / statistics.median(direct)
    print(f"POST /api/mentions ({count} in batches of 500)  {http_rate:8.0f} mentions/s; in-process "
          f"{direct_rate:8.0f} mentions/s (HTTP costs x{direct_rate / http_rate:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
