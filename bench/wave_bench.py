"""A notice wave of N recipients, from CSV to delivery rows, against the SendGrid fake on loopback.

    .venv/bin/python bench/wave_bench.py [--recipients 1000000] [--runs 3] [--db sqlite,postgres]
                                         [--in-flight 2] [--chunk 1000]

For each database it prints the median over `--runs` of:
* wave  - `tocsin.wave.run.run_wave`: stream the CSV, plan each recipient, write the delivery rows (`queued`),
          send 1,000 per request through SendGridSender to the fake (a separate process, recording only
          addresses and custom args: `FakeSendGrid(keep_content=False)`), mark them `accepted`;
* raw   - the same messages with no I/O: read and plan the same CSV rows, build the emails, plan the
          SendGrid batches and JSON-encode every request body (the client-side limit);
and wave/raw as a speed ratio (goal: >= 0.5): the median over the runs of raw time / wave time, each wave
paired with the raw run of its own round (each round times raw, then the wave on each database: the
host's speed drifts by up to 2x over minutes, so raw and wave are compared at the same speed), and whether
the wave met the 60 s goal. Beside each wall-clock median it prints the CPU seconds spent by the wave
(this process, all its threads, and the reader and sender processes it forks), by the fake, and on
PostgreSQL by the server processes that served the wave, and the load average: other processes share the
cores, and the fake and PostgreSQL compete with the wave for them. Each run starts on an empty database
(fresh SQLite file / fresh Postgres schema), in a freshly spawned interpreter (raw too), and checks the fake
received every recipient exactly once.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

POSTGRES_URL = os.environ.get("TOCSIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SUBJECT = "Notice of a data security incident, -name-"
TEXT = "Dear -first_name-,\n" + "We are writing to tell you about a security incident that may affect you. " * 4
HTML = "<p>Dear -first_name-,</p><p>" + TEXT + "</p>"
T = TypeVar("T")
SERVER_TAG = "tocsin-wave-bench"  # application_name of the wave's PostgreSQL connections


def write_recipients(path: Path, count: int) -> None:
    if path.is_file() and path.stat().st_size > 0:
        return
    with path.open("w", encoding="utf-8") as handle:
        handle.write("email,name,first_name,locale,jurisdiction\n")
        for n in range(count):
            handle.write(f"customer{n}@example.com,Customer {n},C{n},en,FR\n")


def serve_fake(port_queue: multiprocessing.Queue, commands: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from tests.fakes import FakeSendGrid

    # The fake keeps every recipient's address and custom args (a million small dicts by the end), and the
    # cyclic collector would walk them again and again, on the cores the wave needs. What it keeps holds no
    # cycles (reference counting frees the rest): the collector runs once per run, at the check.
    gc.disable()
    with FakeSendGrid(keep_content=False) as fake:
        port_queue.put(fake.port)
        cpu_at_reset = time.process_time()
        while True:
            command = commands.get()
            if command == "stop":
                return
            cpu = time.process_time() - cpu_at_reset
            counts = fake.custom_arg_counts("tocsin_message_id")
            port_queue.put((fake.received_count, len(counts), max(counts.values(), default=0), cpu))
            fake.reset()
            gc.collect()
            cpu_at_reset = time.process_time()


def content_source(session, draft_id, incident_id):  # type: ignore[no-untyped-def]
    """The bench's stand-in for legal's approval: a fixed approved content (no drafts table needed)."""
    from tocsin.wave.plan import SendableContent

    return SendableContent(SUBJECT, TEXT, HTML, "en", "0" * 64)


def fresh_database(kind: str, home: Path) -> str:
    """An empty database for the next run, named in TOCSIN_DATABASE_URL (the run's interpreter, spawned after
    this, creates the schema)."""
    if kind == "sqlite":
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        url = f"sqlite:///{home / 'tocsin.db'}"
    else:
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{POSTGRES_URL}?application_name={SERVER_TAG}&options=-csearch_path%3D{schema}"
    os.environ["TOCSIN_DATABASE_URL"] = url
    return url


def drop_schema(url: str) -> None:
    if "search_path" not in url:
        return
    import psycopg

    schema = url.rsplit("%3D", 1)[1]
    with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def in_fresh_process(measure: Callable[..., T], *args: object) -> T:
    """`measure(*args)` in a new interpreter (spawned, not forked): every run, raw or wave, starts from the
    same state, as a `tocsin` command would, whatever the runs before it left in this process."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(measure, *args).result()


def time_wave(csv_path: Path, port: int, in_flight: int, chunk: int) -> tuple[float, float, float, dict[str, int]]:
    """(wall seconds, CPU seconds of this process and the reader and sender processes it forks, CPU seconds
    of the PostgreSQL server processes serving the wave (0 on SQLite), the report's counts)."""
    from tocsin.models import IncidentKind, Severity
    from tocsin.notifications.email_sendgrid import SendGridSender
    from tocsin.notifications.sendgrid_batches import SenderIdentity

    from tocsin.core.clocks import utcnow
    from tocsin.db.engine import current_engine, session_scope
    from tocsin.incidents.service import Declaration, declare
    from tocsin.wave.run import run_wave

    current_engine()
    with session_scope() as session:
        incident = declare(
            session,
            Declaration(IncidentKind.breach, "Bench", Severity.SEV2, utcnow(), "alice", {}),
            actor="alice",
        )
        incident_id = incident.id or 0
    sender = SendGridSender(
        "SG.fake-key", SenderIdentity("notices@tocsin.example", "Tocsin"), host=f"http://127.0.0.1:{port}"
    )
    server_before = _server_cpu()
    started, cpu_started = time.perf_counter(), _cpu_with_children()
    with session_scope() as session:
        report = run_wave(
            session, incident_id, [1], csv_path, channel=sender, actor="bench", content=content_source,
            in_flight=in_flight, chunk_size=chunk,
        )  # fmt: skip
    wall, cpu = time.perf_counter() - started, _cpu_with_children() - cpu_started
    server_after = _server_cpu()
    server = sum(seconds - server_before.get(pid, 0.0) for pid, seconds in server_after.items())
    return wall, cpu, server, report.counts()


def _server_cpu() -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving the wave (its pooled connections, found by
    application_name; the server is on this machine), from /proc."""
    if "application_name" not in os.environ.get("TOCSIN_DATABASE_URL", ""):
        return {}
    import psycopg

    with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), autocommit=True) as connection:
        pids = [row[0] for row in connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (SERVER_TAG,)
        )]  # fmt: skip
    ticks = os.sysconf("SC_CLK_TCK")
    seconds: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return seconds


def _cpu_with_children() -> float:
    """CPU seconds of this process and of its children that have ended (the wave's reader and sender
    processes, joined when the wave ends; not the fake, which runs until the bench ends)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def time_raw(csv_path: Path) -> tuple[float, float]:
    """(wall, CPU) seconds for the wave's client-side work on the same file, minus every I/O: the rows are
    read, planned and built into the same EmailMessages, batched by the same planner, and each request body
    JSON-encoded exactly as the SendGrid client encodes it (`json.dumps(body).encode("utf-8")`)."""
    from tocsin.notifications.sendgrid_batches import SenderIdentity, plan_batches

    from tocsin.wave.plan import DraftChooser, chunked, custom_args_for, email_for, plan_chunk, wave_draft
    from tocsin.wave.recipients import read_recipients

    identity = SenderIdentity("notices@tocsin.example", "Tocsin")
    draft = wave_draft(1, content_source(None, 1, 1))
    chooser = DraftChooser([draft], "en")
    args = custom_args_for(draft, "INC-1")
    started, cpu_started = time.perf_counter(), time.process_time()
    for rows in chunked(read_recipients(csv_path), 1000):
        messages = [
            email_for(draft, message_id=message, email=email, name=name, substitutions=values, custom_args=args)
            for _, _, email, name, _, values, message in plan_chunk(rows, chooser, 1).planned
        ]
        batches, _ = plan_batches(messages)
        for batch in batches:
            json.dumps(batch.body(identity)).encode("utf-8")
    return time.perf_counter() - started, time.process_time() - cpu_started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--in-flight", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=1000)
    args = parser.parse_args()

    work = Path(tempfile.gettempdir()) / "tocsin-wave-bench"
    work.mkdir(exist_ok=True)
    csv_path = work / f"recipients-{args.recipients}.csv"
    write_recipients(csv_path, args.recipients)
    os.environ["TOCSIN_HOME"] = str(work / "home")
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    commands: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    fake = multiprocessing.Process(target=serve_fake, args=(ports, commands), daemon=True)
    fake.start()
    port = ports.get(timeout=30)
    print(
        f"{args.recipients:,} recipients, {args.chunk} per request, {args.in_flight} requests in flight, "
        f"median of {args.runs} runs, fake SendGrid in a separate process, {os.cpu_count()} cores, "
        f"load average {_load()}"
    )
    kinds = args.db.split(",")
    raw_runs: list[tuple[float, float]] = []
    waves: dict[str, list[tuple[float, float, float, float]]] = {kind: [] for kind in kinds}
    try:
        for _ in range(args.runs):  # raw, then each database, per round: the host's speed drifts over minutes
            raw_runs.append(in_fresh_process(time_raw, csv_path))
            for kind in kinds:
                url = fresh_database(kind, work / "home")
                try:
                    elapsed, cpu, server_cpu, counts = in_fresh_process(
                        time_wave, csv_path, port, args.in_flight, args.chunk
                    )
                finally:
                    drop_schema(url)
                commands.put("check")
                received, distinct, most, fake_cpu = ports.get(timeout=60)
                if counts["sent"] != args.recipients or received != args.recipients or most != 1:
                    raise SystemExit(f"{kind}: sent {counts}, fake received {received} ({distinct} distinct)")
                waves[kind].append((elapsed, cpu, fake_cpu, server_cpu))
        raws = [wall for wall, _ in raw_runs]
        raw = statistics.median(raws)
        raw_cpu = statistics.median(cpu for _, cpu in raw_runs)
        print(
            f"     raw: {raw:6.1f} s  {args.recipients / raw:>9,.0f} recipients/s  cpu {raw_cpu:5.1f} s (no I/O)  "
            f"runs {', '.join(f'{t:.1f}' for t in raws)} s"
        )
        for kind in kinds:
            times = [run[0] for run in waves[kind]]
            wave = statistics.median(times)
            server = statistics.median(run[3] for run in waves[kind])
            ratio = statistics.median(raw_wall / run[0] for raw_wall, run in zip(raws, waves[kind], strict=True))
            print(
                f"{kind:>8}: {wave:6.1f} s  {args.recipients / wave:>9,.0f} recipients/s  "
                f"cpu {statistics.median(run[1] for run in waves[kind]):5.1f} s "
                f"(fake {statistics.median(run[2] for run in waves[kind]):4.1f} s"
                f"{f', server {server:4.1f} s' if kind != 'sqlite' else ''})  "
                f"wave/raw speed {ratio:4.2f} ({'meets' if ratio >= 0.5 else 'MISSES'} 0.5)  "
                f"runs {', '.join(f'{t:.1f}' for t in times)} s  "
                f"{'meets' if wave <= 60 else 'MISSES'} the 60 s goal  load {_load()}"
            )
    finally:
        commands.put("stop")
        fake.join(timeout=10)


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
