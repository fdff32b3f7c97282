"""Benchmark: obligations for 10,000 open incidents across many regimes (goal: <= 1 s total).

Run: .venv/bin/python bench/clock_bench.py [--incidents N] [--runs R] [--profile]
Prints the median over R runs of (a) the engine on validated incidents (what the incident
layer re-runs when facts change) and (b) validation + engine from raw dicts, per-incident
cost, and the ratio to the goal. The batch line gives CPU time (time.process_time) beside
wall time: other work on the machine stretches the wall time, much less the CPU time.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tocsin.clock import evaluate, evaluate_many, load_rules, parse_input

GOAL_SECONDS = 1.0
STATES = ["TX", "CA", "NY", "FL", "WA", "CO", "CT", "VT", "OR", "DE", "ME", "AL", "MA", "NJ", "IL"]
MEMBER_STATES = ["DE", "FR", "IE", "NL", "LU", "IT", "ES", "AT", "BE"]


def _instant(rng: random.Random, base: datetime) -> str:
    moment = base + timedelta(minutes=rng.randrange(0, 60 * 24 * 400))
    offset = rng.choice(["Z", "+01:00", "+02:00", "-05:00", "-04:00", "+09:00", "-03:00"])
    if offset == "Z":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    sign = 1 if offset[0] == "+" else -1
    local = moment + sign * timedelta(hours=int(offset[1:3]))
    return local.strftime("%Y-%m-%dT%H:%M:%S") + offset


def _gdpr(rng: random.Random, doc: dict[str, Any], at: str) -> None:
    doc["entity"].update(roles=["controller"], timezone="Europe/Paris")
    if rng.random() < 0.2:
        doc["entity"].update(eu_establishment=False, gdpr_art3_2_applies=True)
    else:
        doc["entity"]["main_establishment"] = rng.choice(MEMBER_STATES)
    if rng.random() < 0.3:
        doc["entity"]["uk_establishment"] = True
    doc["facts"].update(
        personal_data_breach=True,
        likely_high_risk_to_individuals=rng.random() < 0.5,
        data_subjects={code: rng.randrange(1, 5000) for code in rng.sample([*MEMBER_STATES, "GB"], 3)},
    )
    doc["events"]["aware_personal_data_breach"] = at


def _nis2(rng: random.Random, doc: dict[str, Any], at: str) -> None:
    doc["entity"].update(
        nis2_class=rng.choice(["essential", "important"]), member_state=rng.choice(MEMBER_STATES), nis2_transposed=True
    )
    doc["facts"]["significant_incident"] = True
    doc["events"]["aware_significant_incident"] = at
    if rng.random() < 0.5:
        doc["events"]["submitted:eu.nis2.art23.incident_notification"] = at


def _dora(rng: random.Random, doc: dict[str, Any], at: str) -> None:
    doc["entity"].update(
        dora_entity_type=rng.choice(["credit_institution", "payment_institution", "investment_firm"]),
        member_state=rng.choice(MEMBER_STATES),
    )
    doc["facts"]["incident_classified_major"] = True
    doc["events"].update(aware_ict_incident=at, classified_major=at)
    if rng.random() < 0.6:
        doc["events"]["submitted:eu.dora.art19.initial_notification"] = at


def _us(rng: random.Random, doc: dict[str, Any], at: str) -> None:
    doc["entity"]["timezone"] = rng.choice(["America/New_York", "America/Chicago", "America/Los_Angeles"])
    counts = {
        state: rng.choice([1, 40, 249, 250, 499, 500, 501, 1200]) for state in rng.sample(STATES, rng.randint(1, 6))
    }
    doc["facts"].update(residents_affected=counts, breach_of_unencrypted_pi=True)
    doc["events"].update(state_breach_discovered=at, state_breach_determined=at)
    if rng.random() < 0.4:
        doc["events"]["consumers_notified"] = at
    if rng.random() < 0.4:
        doc["entity"]["hipaa_covered_entity"] = True
        doc["facts"].update(breach_of_unsecured_phi=True, total_individuals=sum(counts.values()))
        doc["events"]["hipaa_breach_discovered"] = at
    if rng.random() < 0.3:
        doc["entity"]["sec_registrant_filing_8k"] = True
        doc["events"]["materiality_determined"] = at


def _apac(rng: random.Random, doc: dict[str, Any], at: str) -> None:
    choice = rng.randrange(4)
    if choice == 0:
        doc["entity"].update(roles=["controller"], small_processing_agent=rng.random() < 0.3)
        doc["facts"].update(security_incident_relevant_risk=True, sensitive_data=True)
        doc["events"]["br_knowledge_personal_data_affected"] = at
    elif choice == 1:
        doc["facts"].update(individuals_affected=rng.randrange(200, 3000), possibly_unlawful_purpose=rng.random() < 0.5)
        doc["events"]["jp_knew_reportable_situation"] = at
    elif choice == 2:
        doc["facts"].update(likely_significant_harm=True, individuals_affected=rng.randrange(10, 900))
        doc["events"].update(sg_credible_grounds=at, sg_assessed_notifiable=at)
    else:
        doc["entity"]["au_app_entity"] = True
        doc["facts"]["eligible_data_breach"] = True
        doc["events"].update(au_suspicion=at, au_reasonable_grounds_to_believe=at)


def generate(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    base = datetime(2027, 1, 1, tzinfo=UTC)
    builders = [_gdpr, _nis2, _dora, _us, _apac]
    documents = []
    for number in range(count):
        doc: dict[str, Any] = {"entity": {"name": f"Incident {number}"}, "facts": {}, "events": {}, "options": {}}
        for builder in rng.sample(builders, rng.randint(1, 3)):
            builder(rng, doc, _instant(rng, base))
        doc["options"]["include_proposed"] = rng.random() < 0.1
        documents.append(doc)
    return documents


def _median(runs: int, action: Any) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def _median_cpu(runs: int, action: Any) -> tuple[float, float, list[float]]:
    """Median CPU time, median wall time and the CPU times of `runs` runs."""
    cpu, wall = [], []
    for _ in range(runs):
        started_cpu, started = time.process_time(), time.perf_counter()
        action()
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    return statistics.median(cpu), statistics.median(wall), cpu


def calibration_seconds() -> float:
    """A fixed pure-Python workload (1M datetime additions; ~0.1-0.2 s on an idle core) to judge load."""
    instant, step = datetime(2027, 1, 1, tzinfo=UTC), timedelta(hours=72)
    started = time.perf_counter()
    for _ in range(1_000_000):
        instant + step
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile one engine run and print the top functions")
    args = parser.parse_args()

    started = time.perf_counter()
    book = load_rules()
    load_seconds = time.perf_counter() - started
    documents = generate(args.incidents)
    incidents = [parse_input(doc, rules=book) for doc in documents]
    now = datetime(2027, 6, 1, tzinfo=UTC)
    obligations = sum(len(evaluate(incident, book, now).obligations) for incident in incidents)  # warm caches

    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(lambda: [evaluate(incident, book, now) for incident in incidents])
        profiler.dump_stats("/tmp/clock_bench.prof")
        pstats.Stats("/tmp/clock_bench.prof").sort_stats("tottime").print_stats(15)

    batch_cpu, batch, batch_runs = _median_cpu(args.runs, lambda: evaluate_many(incidents, book, now))
    engine, engine_runs = _median(args.runs, lambda: [evaluate(incident, book, now) for incident in incidents])
    full, full_runs = _median(
        args.runs, lambda: [evaluate(parse_input(doc, rules=book), book, now) for doc in documents]
    )
    rendered, rendered_runs = _median(args.runs, lambda: [evaluate(i, book, now).to_dict() for i in incidents])
    calibration = calibration_seconds()
    n = args.incidents
    print(
        f"rule table: {len(book.rules)} rules, loaded and compiled in {load_seconds * 1000:.0f} ms (once per process)"
    )
    print(f"incidents: {n:,} across GDPR/UK/NIS2/DORA/US states/HIPAA/SEC/BR/JP/SG/AU; {obligations:,} obligations")
    print(
        f"evaluate_many (batch API, GC paused): CPU median {batch_cpu:.3f} s of {args.runs} runs "
        f"({', '.join(f'{t:.3f}' for t in batch_runs)}), wall median {batch:.3f} s; "
        f"{batch_cpu / n * 1e6:.0f} us/incident CPU, {batch / GOAL_SECONDS:.2f}x the {GOAL_SECONDS:.0f} s goal (wall)"
    )
    print(
        f"evaluate() in a plain loop: median {engine:.3f} s of {args.runs} runs "
        f"({', '.join(f'{t:.3f}' for t in engine_runs)}), {engine / n * 1e6:.0f} us/incident, "
        f"{engine / GOAL_SECONDS:.2f}x the {GOAL_SECONDS:.0f} s goal"
    )
    print(
        f"validate + engine (raw dicts): median {full:.3f} s ({', '.join(f'{t:.3f}' for t in full_runs)}), "
        f"{full / n * 1e6:.0f} us/incident, {full / GOAL_SECONDS:.2f}x the goal"
    )
    print(
        f"engine + JSON dicts with explanations rendered: median {rendered:.3f} s "
        f"({', '.join(f'{t:.3f}' for t in rendered_runs)}), {rendered / n * 1e6:.0f} us/incident"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine check: 1M datetime additions took {calibration:.3f} s (idle core ~0.1-0.2 s); load {load:.2f}")


if __name__ == "__main__":
    main()
