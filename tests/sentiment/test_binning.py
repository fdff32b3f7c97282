import pytest
from tocsin.sentiment.binning import Binner, parse_duration
from tocsin.sentiment.mention import parse_record
from tocsin.sentiment.scan import Scan

T0 = 1_772_409_600  # 2026-03-02T00:00:00Z


def test_parse_duration():
    assert [parse_duration(t) for t in ("5m", "30s", "1h", "90")] == [300, 30, 3600, 90]
    with pytest.raises(ValueError):
        parse_duration("5 minutes")


def test_unordered_input_is_binned_exactly_without_lateness():
    binner = Binner(300, lateness=None)
    for offset in (900, 10, 320, 5, 610):
        assert binner.add(T0 + offset, f"m{offset}", True, offset == 5) == []
    bins = binner.flush()
    assert [(b.start - T0, b.count, b.negative) for b in bins] == [(0, 2, 1), (300, 1, 0), (600, 1, 0), (900, 1, 0)]
    assert binner.late == 0


def test_watch_mode_closes_bins_on_event_time_and_counts_late_events():
    binner = Binner(300, lateness=60)
    assert binner.add(T0 + 10, "a", True, False) == []
    assert binner.add(T0 + 330, "b", True, False) == []  # within lateness of the first bin's end
    assert binner.add(T0 + 250, "c", True, True) == []  # late but its bin is still open
    closed = binner.add(T0 + 1000, "d", True, False)  # closes bins 0 and 1 (and the empty one)
    assert [(b.start - T0, b.count, b.negative_ids) for b in closed] == [(0, 2, ("c",)), (300, 1, ()), (600, 0, ())]
    assert binner.add(T0 + 20, "e", True, False) == []
    assert binner.late == 1
    assert [b.count for b in binner.flush()] == [1]


def test_a_stray_timestamp_years_away_does_not_expand_memory():
    binner = Binner(300, lateness=None)
    binner.add(T0, "a", True, False)
    binner.add(T0 + 40 * 365 * 86400, "b", True, False)
    assert len(binner.flush()) <= 7 * 288 + 2


def test_scan_counts_unscored_and_other_brands():
    scan = Scan(brand="Acme")
    records = [
        {"id": "1", "created_at": "2026-03-02T10:00:00Z", "text": "Acme is terrible"},
        {"id": "2", "created_at": "2026-03-02T10:01:00Z", "text": "Acme"},
        {"id": "3", "created_at": "2026-03-02T10:02:00Z", "text": "Globex is great"},
        {"id": "4", "created_at": "2026-03-02T10:03:00Z", "text": "Acme のサービス", "lang": "ja"},
        {"id": "5", "created_at": "2026-03-02T10:04:00Z", "text": ""},
    ]
    for record in records:
        scan.add(parse_record(record, b"k"))
    stats = scan.finish().stats
    assert (stats.mentions, stats.other_brand, stats.negative, stats.unscored) == (3, 2, 1, 1)
