"""Streaming spike detector over fixed time bins (pure code: bins in, alerts out, no I/O, no clock).

Two alert kinds:
- "volume": more mentions than the baseline (with its daily cycle) explains;
- "negativity": more negative mentions than usual, either as a count or as a share of scored mentions,
  with the share at least `min_share_lift` above its usual level (a cheerful buzz is not a crisis).
Each kind is scored on several window lengths at once (one bin for sharp surges, longer windows for quiet
streams where one bin never holds enough posts). An alert opens an episode; the same kind stays silent until
its scores have stayed calm for `cooldown`. Alerts carry when the spike started (the start of the most
surprising recent window) and `detected_at` = the end of the bin that fired: only data up to that bin is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from tocsin.sentiment.baseline import CountBaseline, ShareBaseline, WindowScore

MAX_FILLED_GAP_S = 7 * 86400  # missing bins up to this long count as empty; a longer gap is skipped


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    bin_seconds: int = 300
    threshold: float = 4.5  # robust z on the Anscombe scale needed to fire
    windows_s: tuple[int, ...] = (0, 900, 3600)  # window lengths; 0 = a single bin
    level_halflife_s: float = 4 * 3600  # how fast the deseasonalised level follows real change
    season_halflife_days: float = 4.0  # memory of the daily cycle
    scale_halflife_s: float = 2 * 86400  # memory of how bursty this stream normally is
    share_halflife_s: float = 86400  # memory of the usual negative share
    clip: float = 3.0  # observations above expected + clip*sigma teach the baseline no more than that
    warmup_s: float = 12 * 3600  # no alerts before this much history
    tail_quantile: float = 0.99  # upper residual quantile that may widen the noise scale
    # Where a window expects fewer than min_count mentions, one burst bin (a thread, a bot) can look
    # significant on its own: there the window minus its biggest bin must still score confirm_z.
    confirm_z: float = 2.0
    min_count: int = 10  # fewest mentions in a window to raise a volume alert
    min_ratio: float = 1.5  # the window must hold at least this multiple of its expected count
    min_negative: int = 5  # fewest negative mentions in a window to raise a negativity alert
    min_share_lift: float = 0.1  # negative share must exceed its usual level by this much
    cooldown_s: float = 2 * 3600  # calm time that closes an alert episode
    reset_fraction: float = 0.5  # "calm" = every score below threshold * reset_fraction
    max_sample_ids: int = 10

    def window_bins(self) -> tuple[int, ...]:
        bins = sorted({max(1, round(seconds / self.bin_seconds)) for seconds in self.windows_s})
        return tuple(bins)


@dataclass(frozen=True, slots=True)
class BinStats:
    """What one closed bin held. `start` is epoch seconds (UTC)."""

    start: int
    count: int
    scored: int = 0  # mentions that got a sentiment score (English, non-empty)
    negative: int = 0
    sample_ids: tuple[str, ...] = ()
    negative_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Alert:
    kind: str  # "volume" | "negativity"
    window_start: datetime
    detected_at: datetime
    count: int  # mentions (volume) or negative mentions (negativity) since window_start
    baseline: float  # what the baseline expected for the same span
    score: float
    negative_share: float | None  # share of negative among scored mentions since window_start
    baseline_share: float | None
    mentions: int
    sample_ids: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "window_start": iso_z(self.window_start),
            "detected_at": iso_z(self.detected_at),
            "count": self.count,
            "baseline": round(self.baseline, 2),
            "score": round(self.score, 2),
            "negative_share": None if self.negative_share is None else round(self.negative_share, 3),
            "baseline_share": None if self.baseline_share is None else round(self.baseline_share, 3),
            "mentions": self.mentions,
            "sample_ids": list(self.sample_ids),
        }


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(slots=True)
class _Episode:
    open: bool = False
    last_hot: int = 0


class Detector:
    """Feed closed bins in time order with `update`; it returns the alerts that bin triggered."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = config = config or DetectorConfig()
        self._window_bins = config.window_bins()
        args = (
            config.bin_seconds,
            self._window_bins,
            config.level_halflife_s,
            config.season_halflife_days,
            config.scale_halflife_s,
            config.clip,
            config.tail_quantile,
        )
        self.volume = CountBaseline(*args)
        self.negative = CountBaseline(*args)
        self.share = ShareBaseline(
            config.bin_seconds,
            self._window_bins,
            config.share_halflife_s,
            config.scale_halflife_s,
            config.tail_quantile,
        )
        self._episodes = {"volume": _Episode(), "negativity": _Episode()}
        self._bins: list[BinStats] = []  # the longest window's worth, for samples and spike starts
        self._first_start: int | None = None
        self._next_start: int | None = None
        self.last_expected = 0.0
        self.last_baseline_share = self.share.share

    def update(self, stats: BinStats) -> list[Alert]:
        """Process one closed bin; missing bins before it count as empty bins."""
        if self._next_start is not None and stats.start < self._next_start:
            raise ValueError(f"bins must arrive in time order (got {stats.start}, expected >= {self._next_start})")
        alerts: list[Alert] = []
        if self._next_start is not None and stats.start - self._next_start <= MAX_FILLED_GAP_S:
            while self._next_start + self.config.bin_seconds <= stats.start:
                alerts += self._step(BinStats(self._next_start, 0))
        alerts += self._step(stats)
        return alerts

    def _step(self, stats: BinStats) -> list[Alert]:
        config = self.config
        if self._first_start is None:
            self._first_start = stats.start
        self._next_start = stats.start + config.bin_seconds
        self._bins.append(stats)
        if len(self._bins) > self._window_bins[-1]:
            del self._bins[0]
        hour = (stats.start // 3600) % 24
        self.last_expected = self.volume.expected(hour)
        baseline_share = self.share.share
        self.last_baseline_share = baseline_share
        calm_volume = not self._episodes["volume"].open
        calm_negativity = not self._episodes["negativity"].open
        volume_scores = self.volume.observe(hour, stats.count, calm_volume)
        negative_scores = self.negative.observe(hour, stats.negative, calm_negativity)
        share_scores = self.share.observe(stats.negative, stats.scored, config.clip, calm_negativity)
        warmed_up = stats.start + config.bin_seconds - self._first_start >= config.warmup_s
        alerts = []
        volume_z = max(
            (
                s.z
                for s in volume_scores
                if s.observed >= config.min_count
                and s.observed >= config.min_ratio * s.expected
                and (s.z_rest >= config.confirm_z or s.expected >= config.min_count)
            ),
            default=0.0,
        )
        if self._fires("volume", volume_z, stats.start, warmed_up):
            alerts.append(self._alert("volume", volume_z, baseline_share))
        negativity_z = max(self._negativity_z(negative_scores, share_scores, baseline_share), default=0.0)
        if self._fires("negativity", negativity_z, stats.start, warmed_up):
            alerts.append(self._alert("negativity", negativity_z, baseline_share))
        return alerts

    def _negativity_z(
        self, negative_scores: list[WindowScore], share_scores: list[WindowScore], baseline_share: float
    ) -> list[float]:
        config = self.config
        out = []
        for by_count, by_share in zip(negative_scores, share_scores, strict=True):
            negative = by_count.observed
            scored = sum(b.scored for b in self._bins[-by_count.bins :])
            if negative < config.min_negative or not scored:
                continue
            if negative / scored < baseline_share + config.min_share_lift:
                continue
            count_z = by_count.z if negative >= config.min_ratio * by_count.expected else 0.0
            out.append(max(count_z, by_share.z))
        return out

    def _fires(self, kind: str, z: float, start: int, warmed_up: bool) -> bool:
        config = self.config
        episode = self._episodes[kind]
        if z >= config.threshold * config.reset_fraction:
            episode.last_hot = start
        elif episode.open and start - episode.last_hot >= config.cooldown_s:
            episode.open = False
        if episode.open or not warmed_up or z < config.threshold:
            return False
        episode.open = True
        episode.last_hot = start
        return True

    def _alert(self, kind: str, z: float, baseline_share: float) -> Alert:
        config = self.config
        baseline = self.volume if kind == "volume" else self.negative
        # The spike started where the most surprising window ending now begins.
        suffixes = baseline.suffix_scores(len(self._bins))
        best = max(suffixes, key=lambda s: s.z)
        span = self._bins[-best.bins :]
        scored = sum(b.scored for b in span)
        negative = sum(b.negative for b in span)
        ids: list[str] = []
        for stats in span:
            ids.extend(stats.negative_ids if kind == "negativity" else stats.sample_ids)
            if len(ids) >= config.max_sample_ids:
                break
        detected = self._bins[-1].start + config.bin_seconds
        return Alert(
            kind=kind,
            window_start=datetime.fromtimestamp(span[0].start, UTC),
            detected_at=datetime.fromtimestamp(detected, UTC),
            count=int(best.observed),
            baseline=best.expected,
            score=z,
            negative_share=negative / scored if scored else None,
            baseline_share=baseline_share if scored else None,
            mentions=sum(b.count for b in span),
            sample_ids=tuple(ids[: config.max_sample_ids]),
        )
