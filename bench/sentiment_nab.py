"""NAB realTweets evaluation of the sentiment watch's volume detector against a plain EWMA z-score reference.

Hit: at least one alarm inside a labelled anomaly window. False alarm: an alarm outside every window,
per day outside the windows. As in NAB, the first 15% of each series is a probationary period: alarms there
are not counted (windows that end inside it cannot be hit). "By chance" is how many windows random alarms at
the same false-alarm rate would hit anyway (the windows are 1.5-3 days long, so this matters).

Run: .venv/bin/python bench/sentiment_nab.py [--data DIR] [--threshold Z]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from tocsin.sentiment.detector import BinStats, Detector, DetectorConfig

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "nab_realtweets"
PROBATION = 0.15


@dataclass
class SeriesResult:
    name: str
    windows: int
    scorable: int
    hits: int
    early: int  # windows hit at or before the labelled point
    false_alarms: int
    days_outside: float
    chance: float = 0.0


def load_series(data: Path, key: str) -> list[tuple[int, float]]:
    with (data / "data" / key.split("/")[1]).open() as handle:
        return [(int(_ts(row["timestamp"])), float(row["value"])) for row in csv.DictReader(handle)]


def _ts(text: str) -> float:
    return datetime.fromisoformat(text[:19]).replace(tzinfo=UTC).timestamp()


def ewma_reference(rows: list[tuple[int, float]], threshold: float, alpha: float = 0.01) -> list[int]:
    """Plain EWMA mean/variance z-score; an alarm at each upward crossing of the threshold."""
    mean, var, above, alarms = rows[0][1], 1.0, False, []
    for index, (start, value) in enumerate(rows):
        z = (value - mean) / math.sqrt(var) if index and var > 0 else 0.0
        if z >= threshold and not above:
            alarms.append(start + 300)
        above = z >= threshold
        delta = value - mean
        mean += alpha * delta
        var = (1 - alpha) * (var + alpha * delta * delta)
    return alarms


def tocsin_alarms(rows: list[tuple[int, float]], config: DetectorConfig) -> list[int]:
    detector = Detector(config)
    alarms = []
    for start, value in rows:
        for alert in detector.update(BinStats(start - start % 1, int(value))):
            alarms.append(int(alert.detected_at.timestamp()))
    return alarms


def evaluate(name: str, rows, windows, labels, alarms: list[int]) -> SeriesResult:
    last = rows[-1][0] + 300
    probation_end = rows[int(len(rows) * PROBATION)][0]
    hit = [False] * len(windows)
    early = [False] * len(windows)
    false_alarms = 0
    for moment in alarms:
        if moment < probation_end:
            continue
        inside = [i for i, (a, b) in enumerate(windows) if a <= moment <= b]
        for i in inside:
            hit[i] = True
            early[i] = early[i] or moment <= labels[i]
        if not inside:
            false_alarms += 1
    covered = sum(max(0, min(b, last) - max(a, probation_end)) for a, b in windows)
    days_outside = (last - probation_end - covered) / 86400
    scorable = sum(1 for a, b in windows if b > probation_end)
    return SeriesResult(name, len(windows), scorable, sum(hit), sum(early), false_alarms, days_outside)


def chance_hits(result: SeriesResult, windows, probation_end_ok) -> float:
    rate = result.false_alarms / result.days_outside if result.days_outside else 0.0
    return sum(1 - math.exp(-rate * (b - a) / 86400) for a, b in windows if probation_end_ok(b))


def run(data: Path, method: str, threshold: float, config: DetectorConfig) -> list[SeriesResult]:
    all_windows = json.loads((data / "labels" / "combined_windows_realTweets.json").read_text())
    all_labels = json.loads((data / "labels" / "combined_labels_realTweets.json").read_text())
    results = []
    for key, raw_windows in all_windows.items():
        rows = load_series(data, key)
        windows = [(int(_ts(a)), int(_ts(b))) for a, b in raw_windows]
        labels = [int(_ts(x)) for x in all_labels[key]]
        alarms = ewma_reference(rows, threshold) if method == "ewma" else tocsin_alarms(rows, config)
        result = evaluate(key.split("_")[-1].removesuffix(".csv"), rows, windows, labels, alarms)
        probation_end = rows[int(len(rows) * PROBATION)][0]
        result.chance = chance_hits(result, windows, lambda b, p=probation_end: b > p)
        results.append(result)
    return results


def print_table(title: str, results: list[SeriesResult]) -> None:
    print(f"\n{title}")
    print(f"{'series':8} {'hits':>9} {'early':>6} {'false':>6} {'days':>6} {'FA/day':>7} {'chance':>7}")
    for r in results:
        rate = r.false_alarms / r.days_outside
        print(
            f"{r.name:8} {r.hits:>3}/{r.scorable:<2}({r.windows}) {r.early:>6} {r.false_alarms:>6} "
            f"{r.days_outside:>6.1f} {rate:>7.2f} {r.chance:>7.1f}"
        )
    hits = sum(r.hits for r in results)
    early = sum(r.early for r in results)
    fa = sum(r.false_alarms for r in results)
    days = sum(r.days_outside for r in results)
    scorable = sum(r.scorable for r in results)
    windows = sum(r.windows for r in results)
    chance = sum(r.chance for r in results)
    print(
        f"{'TOTAL':8} {hits:>3}/{scorable:<2}({windows}) {early:>6} {fa:>6} {days:>6.1f} {fa / days:>7.2f} "
        f"{chance:>7.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--threshold", type=float, default=None, help="override the detector's threshold")
    args = parser.parse_args()
    config = DetectorConfig()
    if args.threshold is not None:
        config = replace(config, threshold=args.threshold)
    for z in (6.0, 4.0):
        print_table(f"Reference: plain EWMA z-score (alpha 0.01), z >= {z}", run(args.data, "ewma", z, config))
    began = time.perf_counter()
    results = run(args.data, "tocsin", config.threshold, config)
    elapsed = time.perf_counter() - began
    print_table(f"Tocsin detector, default config (threshold {config.threshold})", results)
    print(f"\n(detector time {elapsed:.2f} s for {sum(1 for _ in results)} series)")


if __name__ == "__main__":
    main()
