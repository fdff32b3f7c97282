"""The sentiment watch end to end on generated text streams: false alarms on routine weeks, delay on crises.

Routine: daily cycle (peak hour 4x the quietest), hour-to-hour rate noise, short harmless chatter bursts,
30% negative. Crisis: the same plus a surge whose first posts arrive 3 minutes after the event, ramping over
10 minutes to `x` times the average rate, 80% negative. Delay = first alert within 3 h of the first surge
post, minus that post (false alarms before it are counted by the routine runs).

Run: .venv/bin/python bench/sentiment_streams.py
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

from tocsin.sentiment.mention import parse_record
from tocsin.sentiment.scan import Scan
from tocsin.sentiment.synthetic import RoutineProfile, Surge, mention_stream

START = datetime(2026, 3, 2, tzinfo=UTC)
KEY = b"bench"


def scan(records) -> list:
    scanner = Scan(keep_series=False)
    for record in records:
        scanner.add(parse_record(record, KEY))
    return scanner.finish().alerts


def routine(per_hour: float, days: float, seeds: range) -> tuple[int, float]:
    alarms = sum(len(scan(mention_stream(START, days, RoutineProfile(per_hour), seed=s))) for s in seeds)
    return alarms, days * len(seeds)


def crisis(per_hour: float, factor: float, seeds: range) -> list[float | None]:
    delays: list[float | None] = []
    for seed in seeds:
        event = START + timedelta(days=3, hours=9 + 3 * seed, minutes=7 * seed)
        first_post = event + timedelta(minutes=3)
        surge = Surge(first_post, peak_per_hour=per_hour * factor, ramp_minutes=10, hours=3)
        alerts = scan(mention_stream(START, 3.5, RoutineProfile(per_hour), (surge,), seed=seed))
        after = [a.detected_at for a in alerts if first_post < a.detected_at <= first_post + timedelta(hours=3)]
        delays.append((min(after) - first_post).total_seconds() / 60 if after else None)
    return delays


def main() -> None:
    print(f"{'mentions/h':>10} {'routine days':>12} {'false alarms/day':>16}   crisis x5 / x20: detected, median delay")
    for per_hour, days in ((3, 14), (30, 14), (300, 7), (3000, 2)):
        alarms, total_days = routine(per_hour, days, range(1, 3))
        cells = []
        for factor in (5, 20):
            delays = crisis(per_hour, factor, range(1, 5))
            found = [d for d in delays if d is not None]
            median = f"{statistics.median(found):.0f} min" if found else "-"
            cells.append(f"{len(found)}/{len(delays)} {median:>7}")
        print(f"{per_hour:>10} {total_days:>12.0f} {alarms / total_days:>16.2f}   {'   '.join(cells)}")


if __name__ == "__main__":
    main()
