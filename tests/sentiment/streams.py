"""Seeded bin-level streams for detector tests: daily cycles, overdispersion, surges (no text needed)."""

from __future__ import annotations

import math
import random

from tocsin.sentiment.detector import BinStats
from tocsin.sentiment.synthetic import _poisson

T0 = 1_772_409_600  # 2026-03-02T00:00:00Z, a Monday


def routine_bins(
    days: float,
    per_hour: float,
    seed: int,
    bin_seconds: int = 300,
    amplitude: float = 0.6,
    negative_share: float = 0.3,
    overdispersion: float = 0.2,
) -> list[BinStats]:
    """Ordinary traffic: Poisson counts around a daily cycle, with hour-to-hour gamma noise on the rate."""
    rng = random.Random(seed)
    bins = []
    noise = 1.0
    for index in range(int(days * 86400 / bin_seconds)):
        start = T0 + index * bin_seconds
        if start % 3600 == 0:
            noise = rng.gammavariate(1 / overdispersion**2, overdispersion**2)
        hour = (start % 86400) / 3600
        rate = per_hour * bin_seconds / 3600 * (1 + amplitude * math.sin(2 * math.pi * (hour - 9) / 24)) * noise
        count = _poisson(rng, rate)
        negative = sum(rng.random() < negative_share for _ in range(count))
        ids = tuple(f"r{index}-{k}" for k in range(min(count, 10)))
        bins.append(BinStats(start, count, count, negative, ids, ids[:negative]))
    return bins


def add_surge(
    bins: list[BinStats],
    start: int,
    extra_per_hour: float,
    minutes: int,
    seed: int,
    negative_share: float = 0.8,
    bin_seconds: int = 300,
) -> list[BinStats]:
    """Lay a sudden surge (full rate at once) over `bins` from `start` for `minutes`."""
    rng = random.Random(seed)
    out = []
    for stats in bins:
        if start <= stats.start < start + minutes * 60:
            extra = _poisson(rng, extra_per_hour * bin_seconds / 3600)
            negative = sum(rng.random() < negative_share for _ in range(extra))
            ids = tuple(f"s{stats.start}-{k}" for k in range(min(extra, 10)))
            stats = BinStats(
                stats.start,
                stats.count + extra,
                stats.scored + extra,
                stats.negative + negative,
                ids + stats.sample_ids,
                ids[:negative] + stats.negative_ids,
            )
        out.append(stats)
    return out
