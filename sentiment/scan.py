"""Glue: mentions -> scores -> bins -> alerts, in one pass and bounded memory.

Memory holds the open bins (all bins of the input span when `lateness` is None, so unordered files are binned
exactly), the detector's short history and, when asked for a chart, one point per bin; never the mentions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tocsin.sentiment.binning import Binner
from tocsin.sentiment.detector import Alert, BinStats, Detector, DetectorConfig, iso_z
from tocsin.sentiment.mention import LineIssue, Mention
from tocsin.sentiment.scoring import NEGATIVE_THRESHOLD, Scorer, looks_english


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One closed bin as the chart draws it."""

    start: int
    count: int
    expected: float
    scored: int
    negative: int
    baseline_share: float


@dataclass(slots=True)
class ScanStats:
    records: int = 0  # input records seen, valid or not
    mentions: int = 0
    malformed: int = 0
    not_public: int = 0
    other_brand: int = 0
    late: int = 0  # arrived after their bin had closed (watch mode)
    unscored: int = 0  # empty or not English: counted in volume, not in the negative share
    negative: int = 0
    bins: int = 0
    first: int | None = None
    last: int | None = None
    alerts: dict[str, int] = field(default_factory=lambda: {"volume": 0, "negativity": 0})

    def note_issue(self, issue: LineIssue) -> None:
        self.records += 1
        if issue.not_public:
            self.not_public += 1
        else:
            self.malformed += 1

    def to_json(self, bin_seconds: int) -> dict[str, object]:
        scored = self.mentions - self.unscored
        moment = lambda epoch: None if epoch is None else iso_z(datetime.fromtimestamp(epoch, UTC))  # noqa: E731
        return {
            "records": self.records,
            "mentions": self.mentions,
            "malformed": self.malformed,
            "not_public": self.not_public,
            "other_brand": self.other_brand,
            "late": self.late,
            "unscored": self.unscored,
            "negative": self.negative,
            "negative_share": round(self.negative / scored, 4) if scored else None,
            "bins": self.bins,
            "bin_seconds": bin_seconds,
            "first": moment(self.first),
            "last": moment(self.last),
            "alerts": dict(self.alerts),
        }


@dataclass(slots=True)
class ScanResult:
    alerts: list[Alert]
    stats: ScanStats
    series: list[SeriesPoint]


def mentions_brand(text: str, brand: str) -> bool:
    return brand.lower() in text.lower()


class Scan:
    """Feed mentions with `add` (any order); `finish` flushes the open bins. Alerts go to `on_alert` too."""

    def __init__(
        self,
        config: DetectorConfig | None = None,
        *,
        scorer: Scorer | None = None,
        lateness: int | None = None,
        brand: str | None = None,
        keep_series: bool = True,
        on_alert: Callable[[Alert], None] | None = None,
    ) -> None:
        self.config = config or DetectorConfig()
        self.scorer = scorer or Scorer()
        self.detector = Detector(self.config)
        self.binner = Binner(self.config.bin_seconds, lateness, self.config.max_sample_ids)
        self.brand = brand
        self.keep_series = keep_series
        self.on_alert = on_alert
        self.stats = ScanStats()
        self.alerts: list[Alert] = []
        self.series: list[SeriesPoint] = []

    def add(self, mention: Mention) -> None:
        stats = self.stats
        stats.records += 1
        text = mention.text
        if self.brand and not mentions_brand(text, self.brand):
            stats.other_brand += 1
            return
        stats.mentions += 1
        epoch = int(mention.created_at.timestamp())
        if stats.first is None or epoch < stats.first:
            stats.first = epoch
        if stats.last is None or epoch > stats.last:
            stats.last = epoch
        compound = self.scorer.compound(text) if text and looks_english(text, mention.lang) else None
        negative = False
        if compound is None:
            stats.unscored += 1
        elif compound <= NEGATIVE_THRESHOLD:
            negative = True
            stats.negative += 1
        late_before = self.binner.late
        closed = self.binner.add(epoch, mention.id, compound is not None, negative)
        if self.binner.late != late_before:
            stats.late += 1
        for stats_bin in closed:
            self._close(stats_bin)

    def add_all(self, mentions: Iterable[Mention]) -> None:
        for mention in mentions:
            self.add(mention)

    def finish(self) -> ScanResult:
        for stats_bin in self.binner.flush():
            self._close(stats_bin)
        return ScanResult(self.alerts, self.stats, self.series)

    def _close(self, stats_bin: BinStats) -> None:
        self.stats.bins += 1
        fired = self.detector.update(stats_bin)
        if self.keep_series:
            self.series.append(
                SeriesPoint(
                    stats_bin.start,
                    stats_bin.count,
                    self.detector.last_expected,
                    stats_bin.scored,
                    stats_bin.negative,
                    self.detector.last_baseline_share,
                )
            )
        for alert in fired:
            self.stats.alerts[alert.kind] += 1
            self.alerts.append(alert)
            if self.on_alert is not None:
                self.on_alert(alert)
