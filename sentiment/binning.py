"""Mentions into fixed event-time bins, closed in order (pure code).

A bin closes once an event arrives `lateness` seconds past its end (watch mode), or at `flush` (end of
input). Events for a bin that has already closed are counted as late, never silently dropped. With
`lateness=None` nothing closes before `flush`: any order of input is binned exactly, in memory proportional
to the number of bins (not of mentions).
"""

from __future__ import annotations

import re

from tocsin.sentiment.detector import BinStats

_UNITS = {"s": 1, "m": 60, "h": 3600}
MAX_EMPTY_RUN_S = 7 * 86400  # a longer silence is skipped over instead of emitted bin by bin


def parse_duration(text: str) -> int:
    """'5m', '30s', '1h' (or plain seconds) to seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*([smh]?)\s*", text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"not a duration like 5m, 30s or 1h: {text!r}")
    return int(match.group(1)) * _UNITS[match.group(2) or "s"]


class Binner:
    def __init__(self, bin_seconds: int, lateness: int | None = 0, max_ids: int = 10) -> None:
        if 86400 % bin_seconds:
            raise ValueError("the bin must divide a day evenly (e.g. 1m, 5m, 15m, 1h)")
        self.bin_seconds = bin_seconds
        self.lateness = lateness
        self.max_ids = max_ids
        self.late = 0
        # bin index -> [count, scored, negative, sample ids, negative ids]
        self._open: dict[int, list] = {}
        self._next: int | None = None  # first bin index not yet closed
        self._newest = -1

    def add(self, epoch: float, mention_id: str, scored: bool, negative: bool) -> list[BinStats]:
        index = int(epoch // self.bin_seconds)
        if self._next is not None and index < self._next:
            self.late += 1
            return []
        slot = self._open.get(index)
        if slot is None:
            slot = self._open[index] = [0, 0, 0, [], []]
        slot[0] += 1
        if scored:
            slot[1] += 1
            if negative:
                slot[2] += 1
                if len(slot[4]) < self.max_ids:
                    slot[4].append(mention_id)
        if len(slot[3]) < self.max_ids:
            slot[3].append(mention_id)
        if index > self._newest:
            self._newest = index
            if self.lateness is not None:
                return self._close_before((epoch - self.lateness) // self.bin_seconds)
        return []

    def flush(self) -> list[BinStats]:
        return self._close_before(self._newest + 1)

    def _close_before(self, limit: float) -> list[BinStats]:
        """Close every bin whose index is below `limit` (empty bins included), in order."""
        if not self._open:
            return []
        if self._next is None:
            self._next = min(self._open)
        closed = []
        max_empty = MAX_EMPTY_RUN_S // self.bin_seconds
        while self._next < limit:
            if self._next not in self._open and self._open:
                following = min(self._open)
                if following - self._next > max_empty:
                    self._next = following  # e.g. one stray timestamp years away: do not emit the gap
            slot = self._open.pop(self._next, None)
            start = self._next * self.bin_seconds
            if slot is None:
                closed.append(BinStats(start, 0))
            else:
                closed.append(BinStats(start, slot[0], slot[1], slot[2], tuple(slot[3]), tuple(slot[4])))
            self._next += 1
        return closed
