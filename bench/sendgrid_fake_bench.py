"""Throughput of SendGridSender -> the SendGrid fake over loopback, against the no-I/O limit.

    .venv/bin/python bench/sendgrid_fake_bench.py [--recipients 100000] [--runs 5] [--workers 1]
                                                  [--in-process]

For each body mode (`shared`: one notice for everyone; `personal`: a distinct rendered body per recipient,
packed as substitutions) it prints the median messages/s of:
* send   - SendGridSender.send() through the official client to the fake (a separate process by default,
           so the fake does not share this process's GIL), 1,000 personalizations per request;
* raw    - planning the same batches and JSON-encoding every request body, no I/O (the client-side limit);
and the ratio raw/send (how much the HTTP round trips cost on top of building the requests).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tocsin.notifications.email_sendgrid import SendGridSender
from tocsin.notifications.message import EmailMessage
from tocsin.notifications.sendgrid_batches import SenderIdentity, plan_batches

FROM = SenderIdentity("notices@tocsin.example", "Tocsin Notices")
TEXT = "We are writing to tell you about a security incident that may affect your personal data. " * 4
HTML = "<p>" + TEXT + "</p>"


def messages(count: int, personal: bool) -> list[EmailMessage]:
    return [
        EmailMessage(
            message_id=f"wave-1/{n}",
            to=f"customer{n}@example.com",
            name=f"Customer {n}",
            subject="Notice of a data security incident",
            text=f"Dear Customer {n},\n{TEXT}" if personal else TEXT,
            html=f"<p>Dear Customer {n},</p>{HTML}" if personal else HTML,
            custom_args={"incident_id": "INC-2026-007"},
        )
        for n in range(count)
    ]


def serve_fake(port_queue: multiprocessing.Queue, stop: multiprocessing.Event) -> None:  # type: ignore[type-arg]
    from tests.fakes import FakeSendGrid

    with FakeSendGrid() as fake:
        port_queue.put(fake.port)
        while not stop.wait(0.5):
            fake.reset()  # keep memory flat across runs: this bench only times, the tests check the log


def time_send(sender: SendGridSender, batch: list[EmailMessage]) -> float:
    started = time.perf_counter()
    results = sender.send(batch)
    elapsed = time.perf_counter() - started
    if not all(r.accepted for r in results):
        raise SystemExit(f"{sum(not r.accepted for r in results)} messages were not accepted")
    return elapsed


def time_raw(batch: list[EmailMessage]) -> float:
    started = time.perf_counter()
    batches, _ = plan_batches(batch)
    for item in batches:
        json.dumps(item.body(FROM)).encode("utf-8")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1, help="requests in flight (SendGridSender workers)")
    parser.add_argument("--in-process", action="store_true", help="run the fake in this process (shares the GIL)")
    args = parser.parse_args()

    stop = multiprocessing.Event()
    if args.in_process:
        from tests.fakes import FakeSendGrid

        fake = FakeSendGrid().start()
        port, process = fake.port, None
    else:
        ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
        process = multiprocessing.Process(target=serve_fake, args=(ports, stop), daemon=True)
        process.start()
        port = ports.get(timeout=30)
    sender = SendGridSender("SG.fake-key", FROM, host=f"http://127.0.0.1:{port}", timeout=30, workers=args.workers)
    where = "in this process" if args.in_process else "in a separate process"
    print(
        f"{args.recipients:,} recipients, 1,000 per request, {args.workers} in flight, "
        f"median of {args.runs} runs, fake {where}"
    )
    try:
        for mode in ("shared", "personal"):
            batch = messages(args.recipients, personal=mode == "personal")
            time_send(sender, batch[:2_000])  # warm-up
            send_times = [time_send(sender, batch) for _ in range(args.runs)]
            raw_times = [time_raw(batch) for _ in range(args.runs)]
            body_kb = len(json.dumps(plan_batches(batch[:1_000])[0][0].body(FROM))) / 1024
            send_rate = args.recipients / statistics.median(send_times)
            raw_rate = args.recipients / statistics.median(raw_times)
            print(
                f"{mode:>8}: send {send_rate:>10,.0f} msg/s ({sender.last_run_requests} requests of "
                f"{body_kb:,.0f} KB)   raw {raw_rate:>10,.0f} msg/s   raw/send {raw_rate / send_rate:4.1f}x"
            )
    finally:
        stop.set()
        if process is not None:
            process.join(timeout=5)
        else:
            fake.stop()


if __name__ == "__main__":
    main()
