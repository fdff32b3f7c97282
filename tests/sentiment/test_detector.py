from dataclasses import replace

import pytest
from tocsin.sentiment.detector import BinStats, Detector, DetectorConfig

from tests.sentiment.streams import T0, add_surge, routine_bins

DAY = 86400


def run(bins, config=None):
    detector = Detector(config)
    alerts = []
    for stats in bins:
        alerts += detector.update(stats)
    return alerts


@pytest.mark.parametrize(("per_hour", "seed"), [(2, 1), (4, 2), (40, 3), (400, 4), (4000, 5)])
def test_routine_week_with_daily_cycle_raises_nothing(per_hour, seed):
    assert run(routine_bins(7, per_hour, seed)) == []


@pytest.mark.parametrize(("per_hour", "extra", "max_minutes"), [(3, 120, 20), (40, 400, 15), (4000, 16000, 10)])
def test_sudden_surge_is_detected_within_minutes(per_hour, extra, max_minutes):
    surge_at = T0 + 5 * DAY + 14 * 3600 + 5 * 60
    bins = add_surge(routine_bins(6, per_hour, seed=11), surge_at, extra, minutes=180, seed=12)
    alerts = run(bins)
    volume = [a for a in alerts if a.kind == "volume"]
    assert len(volume) == 1  # one episode, one alert
    delay = volume[0].detected_at.timestamp() - surge_at
    assert 0 < delay <= max_minutes * 60
    assert volume[0].window_start.timestamp() >= surge_at - 300  # the spike's start, not earlier history
    assert volume[0].window_start < volume[0].detected_at
    assert volume[0].count > 2 * volume[0].baseline
    assert 0 < len(volume[0].sample_ids) <= 10
    assert any(a.kind == "negativity" for a in alerts)


def test_detected_at_uses_no_later_data():
    surge_at = T0 + 4 * DAY + 10 * 3600
    bins = add_surge(routine_bins(5, 60, seed=3), surge_at, 900, minutes=120, seed=4)
    first = run(bins)[0]
    fired_bin = next(i for i, b in enumerate(bins) if b.start + 300 == first.detected_at.timestamp())
    prefix = run(bins[: fired_bin + 1])
    assert prefix[0] == first  # same alert from only the data up to the bin that fired
    assert run(bins[:fired_bin]) == []  # and nothing one bin earlier


def test_cooldown_keeps_one_alert_per_episode_and_rearms():
    config = DetectorConfig()
    bins = routine_bins(8, 60, seed=5)
    first, second = T0 + 4 * DAY + 9 * 3600, T0 + 6 * DAY + 15 * 3600
    bins = add_surge(bins, first, 1200, minutes=300, seed=6)
    bins = add_surge(bins, second, 1200, minutes=60, seed=7)
    volume = [a for a in run(bins, config) if a.kind == "volume"]
    assert [a.detected_at.timestamp() > s for a, s in zip(volume, (first, second), strict=True)] == [True, True]
    assert volume[1].detected_at.timestamp() - volume[0].detected_at.timestamp() > config.cooldown_s


def test_negative_share_shift_without_more_volume_is_a_negativity_alert():
    bins = routine_bins(6, 300, seed=8, negative_share=0.2)
    turn = T0 + 5 * DAY + 12 * 3600
    shifted = [
        BinStats(b.start, b.count, b.scored, min(b.scored, int(b.scored * 0.6)) if b.start >= turn else b.negative)
        for b in bins
    ]
    kinds = {a.kind for a in run(shifted)}
    assert kinds == {"negativity"}


def test_cheerful_buzz_is_volume_not_negativity():
    surge_at = T0 + 5 * DAY + 12 * 3600
    bins = add_surge(routine_bins(6, 100, seed=9), surge_at, 1500, minutes=120, seed=10, negative_share=0.05)
    assert {a.kind for a in run(bins)} == {"volume"}


def test_no_alert_during_warmup_and_bins_must_be_ordered():
    detector = Detector(DetectorConfig(warmup_s=3600))
    assert detector.update(BinStats(T0, 500)) == []  # huge, but no history yet
    with pytest.raises(ValueError, match="time order"):
        detector.update(BinStats(T0 - 300, 1))


def test_missing_bins_count_as_empty():
    detector = Detector()
    detector.update(BinStats(T0, 10))
    detector.update(BinStats(T0 + 3600, 10))  # eleven silent bins in between
    assert detector.volume.steps == 13


def test_a_lone_one_bin_burst_on_a_quiet_stream_is_not_a_crisis():
    bins = routine_bins(3, 24, seed=13)
    spike_at = T0 + 2 * DAY + 12 * 3600
    bins = [BinStats(b.start, b.count + 25, b.scored, b.negative) if b.start == spike_at else b for b in bins]
    assert run(bins) == []  # a thread or a bot: nothing before or after it
    assert [a.kind for a in run(bins, replace(DetectorConfig(), confirm_z=0.0))] == ["volume"]
