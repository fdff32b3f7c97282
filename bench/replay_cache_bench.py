"""Cost of the Slack replay cache per request: a signed `/tocsin help` (answered at once, no background work)
through the whole app in-process (ASGI), with the cache (one INSERT into `signed_request_seen` per request)
and without it (the cache call replaced by `True`). SQLite, and PostgreSQL when 127.0.0.1:5432 answers.
Median of several runs of N requests each; prints ms per request and the ratio.

Usage: .venv/bin/python bench/replay_cache_bench.py [--runs 5] [--requests 200]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from fastapi.testclient import TestClient
from tocsin.notifications.slack_inbound import expected_signature
from tocsin.web import slack
from tocsin.web.app import create_app

from tocsin.core.config import get_settings
from tocsin.db.engine import current_engine, dispose_engines

SECRET = "bench-signing-secret"
POSTGRES = os.environ.get("TOCSIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
COUNTER = itertools.count()


def signed_help() -> tuple[bytes, dict[str, str]]:
    """A distinct signed request each time (Slack's trigger_id differs per request), so each is accepted."""
    body = urlencode({"command": "/tocsin", "text": "help", "user_id": "U0BENCH", "trigger_id": next(COUNTER)})
    stamp = str(int(time.time()))
    return body.encode(), {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": expected_signature(body.encode(), stamp, SECRET),
        "Content-Type": "application/x-www-form-urlencoded",
    }


def per_request_ms(client: TestClient, requests: int) -> float:
    prepared = [signed_help() for _ in range(requests)]
    began = time.perf_counter()
    for body, headers in prepared:
        response = client.post("/slack/commands", content=body, headers=headers)
        assert response.status_code == 200 and "Usage" in response.json()["text"], response.text
    return (time.perf_counter() - began) / requests * 1000


@contextmanager
def database(kind: str, home: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{home / 'bench.db'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    plain = POSTGRES.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        dispose_engines()
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def postgres_reachable() -> bool:
    try:
        with psycopg.connect(POSTGRES.replace("+psycopg", ""), connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def measure(kind: str, runs: int, requests: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as folder, database(kind, Path(folder)) as url:
        os.environ.update(
            TOCSIN_HOME=folder, TOCSIN_DATABASE_URL=url, TOCSIN_SLACK_SIGNING_SECRET=SECRET, TOCSIN_TIMEZONE="UTC"
        )
        get_settings.cache_clear()
        dispose_engines()
        current_engine()  # migrated before timing
        cached_call = slack.first_delivery
        with_cache, without_cache = [], []
        with TestClient(create_app(get_settings())) as client:
            per_request_ms(client, 20)  # warm-up
            for _ in range(runs):  # interleaved, so drift on a shared machine hits both alike
                slack.first_delivery = cached_call
                with_cache.append(per_request_ms(client, requests))
                slack.first_delivery = lambda *_args, **_kwargs: True
                without_cache.append(per_request_ms(client, requests))
        slack.first_delivery = cached_call
        dispose_engines()
    return statistics.median(with_cache), statistics.median(without_cache)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    kinds = ["sqlite"] + (["postgres"] if postgres_reachable() else [])
    print(f"signed /slack/commands through the app, {args.requests} requests x {args.runs} runs (median)")
    for kind in kinds:
        cached, plain = measure(kind, args.runs, args.requests)
        print(
            f"{kind:9s} with cache {cached:6.2f} ms/request   without {plain:6.2f} ms/request   "
            f"cost {cached - plain:+6.2f} ms   ratio {cached / plain:4.2f}x"
        )


if __name__ == "__main__":
    main()
