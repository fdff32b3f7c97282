"""Robust streaming baselines for counts per time bin (pure code, no I/O).

`CountBaseline` expects `level x season[hour-of-day]` mentions in the next bin (a Holt-Winters-style
multiplicative model learnt by exponential smoothing) and measures surprise on the Anscombe scale,
A(x) = 2*sqrt(x + 3/8), where Poisson counts have unit variance whatever their mean: that is the count-noise
floor that keeps quiet streams (a few mentions an hour) from alerting on single posts. The residual spread
actually seen (real traffic is burstier than Poisson) is learnt per window length and can only widen that
floor. Observations are clipped before they update the baseline, so a surge does not teach the baseline
that surges are normal.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

HOURS = 24
_MEAN_ABS_TO_SIGMA = 1.2533  # E|N(0, s)| = s * sqrt(2/pi)
# During an alert episode the spread learns 5x slower: a stream whose every spike trails off for hours is
# bursty by nature (learn it), but one long crisis must not blind the detector to a second wave.
EPISODE_WEIGHT = 0.2


def _normal_quantile(p: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(p)


def anscombe(count: float) -> float:
    return 2.0 * math.sqrt(count + 0.375)


def alpha_for(halflife_steps: float) -> float:
    """Smoothing weight per step for a given half-life counted in steps."""
    return 1.0 - 0.5 ** (1.0 / max(halflife_steps, 1e-9))


class Spread:
    """How far residuals of one kind usually stray: a robust typical size and a running upper quantile.

    sigma = max(floor, typical spread, upper quantile / its normal value): a stream with frequent large
    bursts (real tweet volumes) earns a wider scale than its median behaviour suggests.
    """

    __slots__ = ("_alpha", "_p", "_q_normal", "floor", "mean_abs", "tail")

    def __init__(self, floor: float, alpha: float, tail_quantile: float) -> None:
        self.floor = floor
        self._alpha = alpha
        self._p = tail_quantile
        self._q_normal = _normal_quantile(tail_quantile)
        self.mean_abs = 0.8 * floor
        self.tail = self._q_normal * floor

    def sigma(self) -> float:
        return max(self.floor, _MEAN_ABS_TO_SIGMA * self.mean_abs, self.tail / self._q_normal)

    def learn(self, residual: float, clip: float, weight: float = 1.0) -> None:
        sigma = self.sigma()
        # Quantile by stochastic approximation: up by p when exceeded, down by 1-p otherwise.
        step = self._alpha * 50 * weight * max(self.tail, self.floor)
        if residual > self.tail:
            self.tail += step * self._p
        else:
            self.tail = max(self.tail - step * (1 - self._p), self.floor)
        self.mean_abs += self._alpha * weight * (min(abs(residual), clip * sigma) - self.mean_abs)


@dataclass(slots=True)
class WindowScore:
    bins: int  # window length in bins, ending with the current bin
    observed: float
    expected: float
    z: float
    z_rest: float = 0.0  # z of the same window without its most excessive bin (0 for one bin)


class CountBaseline:
    """Expected count per bin with a daily cycle, plus multi-window surprise scores."""

    def __init__(
        self,
        bin_seconds: int,
        window_bins: tuple[int, ...],
        level_halflife_s: float,
        season_halflife_days: float,
        scale_halflife_s: float,
        clip: float,
        tail_quantile: float = 0.99,
    ) -> None:
        self.window_bins = window_bins
        self.clip = clip
        self._alpha_level = alpha_for(level_halflife_s / bin_seconds)
        bins_per_hour = max(1.0, 3600 / bin_seconds)
        self._alpha_season = alpha_for(season_halflife_days * bins_per_hour)
        self._alpha_scale = alpha_for(scale_halflife_s / bin_seconds)
        self.level = 0.0
        self.steps = 0
        # Per hour-of-day sums of what was seen and of what the level alone predicted; ratio = cycle factor.
        self._season_seen = [0.0] * HOURS
        self._season_level = [0.0] * HOURS
        self._factors = [1.0] * HOURS
        self._spread = [Spread(1.0, self._alpha_scale, tail_quantile) for _ in window_bins]
        longest = max(window_bins)
        self.recent: deque[tuple[float, float]] = deque(maxlen=longest)  # (observed, expected) per bin

    def expected(self, hour: int) -> float:
        return max(self.level * self._factors[hour], 0.0)

    def sigma(self, window_index: int) -> float:
        return self._spread[window_index].sigma()

    def observe(self, hour: int, count: float, learn_spread: bool = True) -> list[WindowScore]:
        """Score `count` for the bin just closed (before learning from it), then learn from it.

        `learn_spread=False` during an alert episode: the spread then learns at EPISODE_WEIGHT.
        """
        expected = self.expected(hour)
        self.recent.append((count, expected))
        scores = self._scores()
        self._learn(hour, count, expected, scores, learn_spread)
        return scores

    def suffix_scores(self, max_bins: int) -> list[WindowScore]:
        """Scores of every window ending now, from 1 bin up to `max_bins` (to locate a spike's start)."""
        out: list[WindowScore] = []
        observed = expected = 0.0
        recent = list(self.recent)[-max_bins:]
        for length, (count, base) in enumerate(reversed(recent), start=1):
            observed += count
            expected += base
            out.append(WindowScore(length, observed, expected, (anscombe(observed) - anscombe(expected))))
        return out

    def _scores(self) -> list[WindowScore]:
        scores = []
        recent = self.recent
        size = len(recent)
        for index, bins in enumerate(self.window_bins):
            observed = expected = 0.0
            top_count = top_base = 0.0
            top_excess = -math.inf
            for position in range(max(0, size - bins), size):
                count, base = recent[position]
                observed += count
                expected += base
                if count - base > top_excess:
                    top_excess, top_count, top_base = count - base, count, base
            sigma = self._spread[index].sigma()
            z = (anscombe(observed) - anscombe(expected)) / sigma
            rest = 0.0
            if bins > 1:
                rest = (anscombe(observed - top_count) - anscombe(expected - top_base)) / sigma
            scores.append(WindowScore(bins, observed, expected, z, rest))
        return scores

    def _learn(self, hour: int, count: float, expected: float, scores: list[WindowScore], learn_spread: bool) -> None:
        self.steps += 1
        if self.steps > 1:
            cap = (anscombe(expected) / 2 + self.clip * self.sigma(0) / 2) ** 2 - 0.375
            count = min(count, max(cap, 0.0))
            for score, spread in zip(scores, self._spread, strict=True):
                spread.learn(score.z * spread.sigma(), self.clip, 1.0 if learn_spread else EPISODE_WEIGHT)
        # Warm start: a plain running mean until the half-life's weight takes over.
        alpha = max(self._alpha_level, 1.0 / self.steps)
        factor = self._factors[hour]
        self.level += alpha * (count / factor - self.level)
        decay = 1.0 - self._alpha_season
        self._season_seen[hour] = self._season_seen[hour] * decay + count
        self._season_level[hour] = self._season_level[hour] * decay + self.level
        if self.steps % 12 == 0:
            self._refresh_factors()

    def _refresh_factors(self) -> None:
        # A pseudo-count pulls sparse hours toward "no cycle" instead of chasing noise.
        prior = 3.0
        raw = [
            (seen + prior) / (level + prior) if level > 0 else 1.0
            for seen, level in zip(self._season_seen, self._season_level, strict=True)
        ]
        mean = sum(raw) / HOURS
        self._factors = [min(max(value / mean, 0.05), 20.0) for value in raw]


class ShareBaseline:
    """The usual share of negative mentions, and binomial surprise of a window's share."""

    def __init__(
        self,
        bin_seconds: int,
        window_bins: tuple[int, ...],
        halflife_s: float,
        scale_halflife_s: float,
        tail_quantile: float = 0.99,
    ) -> None:
        self.window_bins = window_bins
        self._decay = 1.0 - alpha_for(halflife_s / bin_seconds)
        self._alpha_scale = alpha_for(scale_halflife_s / bin_seconds)
        self._negative = 0.3  # weak prior: 0.3 of one mention
        self._scored = 1.0
        self._spread = [Spread(1.0, self._alpha_scale, tail_quantile) for _ in window_bins]
        self.recent: deque[tuple[float, float]] = deque(maxlen=max(window_bins))  # (negative, scored)

    @property
    def share(self) -> float:
        return min(max(self._negative / self._scored, 0.01), 0.99)

    def observe(self, negative: float, scored: float, clip: float, learn_spread: bool = True) -> list[WindowScore]:
        """z of each window's negative count against its scored count times the usual share."""
        base = self.share
        self.recent.append((negative, scored))
        scores = []
        size = len(self.recent)
        for index, bins in enumerate(self.window_bins):
            neg = total = 0.0
            for position in range(max(0, size - bins), size):
                n, s = self.recent[position]
                neg += n
                total += s
            expected = total * base
            spread = math.sqrt(max(total * base * (1 - base), 1e-9))
            z = (neg - expected) / spread if total else 0.0
            scores.append(WindowScore(bins, neg, expected, z / self._spread[index].sigma()))
            if total:
                self._spread[index].learn(z, clip, 1.0 if learn_spread else EPISODE_WEIGHT)
        # Learn the share, but a surge of negativity only nudges it (clipped like the counts).
        if scored:
            capped = min(negative, scored * base + clip * math.sqrt(max(scored * base * (1 - base), 1.0)))
            self._negative = self._negative * self._decay + capped
            self._scored = self._scored * self._decay + scored
        return scores
