"""Throughput and memory of the sentiment watch on one core, and scorer quality against VADER.

Prints medians over several runs: scoring only (this scorer vs vaderSentiment), binning + detection only,
end to end (JSONL file -> parse -> pseudonymise -> score -> bins -> alerts), and the peak RSS of a separate
process scanning a generated 1,000,000-line JSONL file. Also: agreement of the scorer with VADER and accuracy
on the labelled synthetic corpus (labels written with the templates, not computed).

Run: .venv/bin/python bench/sentiment_bench.py [--lines 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tocsin.sentiment.binning import Binner
from tocsin.sentiment.detector import Detector, DetectorConfig
from tocsin.sentiment.scoring import Scorer
from tocsin.sentiment.synthetic import RoutineProfile, labelled_corpus, mention_stream

SCAN_CHILD = """
import sys, time
from pathlib import Path
from tocsin.sentiment.connectors import FileConnector, read_mentions
from tocsin.sentiment.scan import Scan
scan = Scan(keep_series=True)
issues = []
began = time.perf_counter()
scan.add_all(read_mentions(FileConnector(Path(sys.argv[1])), b"bench-key", issues.append))
result = scan.finish()
elapsed = time.perf_counter() - began
peak_kb = peak_rss_kb()
print(result.stats.mentions, elapsed, peak_kb, len(result.alerts), len(issues))
"""
IMPORT_CHILD = """
from tocsin.sentiment.scan import Scan
Scan()
print(peak_rss_kb())
"""
# VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec and would report the (big) parent's footprint.
PEAK_RSS = """
def peak_rss_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""


def label(value: float | None) -> str:
    return "neutral" if value is None or abs(value) < 0.05 else ("positive" if value > 0 else "negative")


def timed(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def quality(corpus: list[tuple[str, str]]) -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    models = {
        "vaderSentiment": lambda t: vader.polarity_scores(t)["compound"],
        "replica (domain off)": Scorer(domain=False).compound,
        "tocsin scorer": Scorer().compound,
    }
    vader_labels = [label(models["vaderSentiment"](text)) for text, _ in corpus]
    print(f"\nScorer quality on {len(corpus)} labelled synthetic mentions (1/3 each label)")
    print(f"{'model':22} {'accuracy':>8} {'neg prec':>8} {'neg rec':>8} {'agree VADER':>11}")
    for name, model in models.items():
        predicted = [label(model(text)) for text, _ in corpus]
        truth = [t for _, t in corpus]
        correct = sum(p == t for p, t in zip(predicted, truth, strict=True))
        tp = sum(p == t == "negative" for p, t in zip(predicted, truth, strict=True))
        said_negative = sum(p == "negative" for p in predicted)
        negative = sum(t == "negative" for t in truth)
        agree = sum(p == v for p, v in zip(predicted, vader_labels, strict=True))
        print(
            f"{name:22} {correct / len(corpus):>8.3f} {tp / max(said_negative, 1):>8.3f} "
            f"{tp / negative:>8.3f} {agree / len(corpus):>11.3f}"
        )


def scoring_speed(texts: list[str], runs: int) -> float:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    scorer = Scorer()
    vader = SentimentIntensityAnalyzer()
    ours = timed(lambda: [scorer.compound(t) for t in texts], runs)
    sample = texts[: len(texts) // 5]
    theirs = timed(lambda: [vader.polarity_scores(t) for t in sample], runs)
    ours_rate, theirs_rate = len(texts) / ours, len(sample) / theirs
    print(
        f"\nScoring only: tocsin {ours_rate:,.0f} texts/s, vaderSentiment {theirs_rate:,.0f} texts/s "
        f"(x{ours_rate / theirs_rate:.1f}); median of {runs}"
    )
    return ours_rate


def detection_speed(events: list[tuple[float, str, bool, bool]], runs: int) -> None:
    def run() -> None:
        binner, detector = Binner(300, lateness=60), Detector(DetectorConfig())
        for epoch, mention_id, scored, negative in events:
            for stats in binner.add(epoch, mention_id, scored, negative):
                detector.update(stats)
        for stats in binner.flush():
            detector.update(stats)

    elapsed = timed(run, runs)
    print(f"Binning + detection only: {len(events) / elapsed:,.0f} mentions/s; median of {runs}")


def write_jsonl(path: Path, lines: int, per_hour: float) -> None:
    days = lines / per_hour / 24 * 1.02
    start = datetime(2026, 3, 2, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as handle:
        for count, record in enumerate(mention_stream(start, days, RoutineProfile(per_hour=per_hour), seed=5)):
            if count >= lines:
                break
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def end_to_end(path: Path, runs: int) -> tuple[float, float, int]:
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PEAK_RSS + SCAN_CHILD, str(path)], capture_output=True, text=True, check=True
        )
        mentions, elapsed, peak_kb, _alerts, _issues = out.stdout.split()
        results.append((int(mentions) / float(elapsed), int(peak_kb), int(mentions)))
    rate = statistics.median(r[0] for r in results)
    return rate, max(r[1] for r in results) / 1024, results[0][2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="size of the big JSONL file")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    corpus = labelled_corpus(6000, seed=99)
    quality(corpus)
    texts = [text for text, _ in corpus] * 10
    scoring_speed(texts, args.runs)
    scorer = Scorer()
    events = []
    for number, record in enumerate(
        mention_stream(datetime(2026, 3, 2, tzinfo=UTC), 7, RoutineProfile(per_hour=1200), seed=8)
    ):
        compound = scorer.compound(record["text"])
        events.append(
            (
                datetime.fromisoformat(record["created_at"]).timestamp(),
                str(number),
                compound is not None,
                compound is not None and compound <= -0.05,
            )
        )
    detection_speed(events, args.runs)

    with tempfile.TemporaryDirectory() as folder:
        small, big = Path(folder) / "200k.jsonl", Path(folder) / "big.jsonl"
        write_jsonl(small, 200_000, per_hour=2000)
        rate, peak, count = end_to_end(small, args.runs)
        print(
            f"End to end, {count:,} lines (4 days at 2,000/h): {rate:,.0f} mentions/s; median of {args.runs}; "
            f"peak RSS {peak:.0f} MiB"
        )
        write_jsonl(big, args.lines, per_hour=20_000)
        size_mb = big.stat().st_size / 2**20
        rate, peak, count = end_to_end(big, 1)
        base = (
            int(
                subprocess.run(
                    [sys.executable, "-c", PEAK_RSS + IMPORT_CHILD], capture_output=True, text=True, check=True
                ).stdout
            )
            / 1024
        )
        print(
            f"End to end, {count:,} lines ({size_mb:.0f} MiB, 2 days at 20,000/h): {rate:,.0f} mentions/s; "
            f"peak RSS {peak:.0f} MiB (a process that only imports it: {base:.0f} MiB)"
        )


if __name__ == "__main__":
    main()
