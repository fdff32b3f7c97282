"""Holiday calendars: the `holidays` package per country/subdivision, plus rules.yaml overrides.

Importing `holidays` and building a country costs about a second here, too slow for a CLI
that must answer at once, so the package's dates for 2020-2040 are kept in
`holiday_snapshot.json` (regenerate: `python -m tocsin.clock.calendars`); other years ask
the package directly. Overrides (`add`, `remove`, `annual`) always apply on top.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from tocsin.clock.schema import CalendarSpec

SNAPSHOT_PATH = Path(__file__).with_name("holiday_snapshot.json")
SNAPSHOT_YEARS = range(2020, 2041)


def _package_key(country: str, subdiv: str | None) -> str:
    return f"{country}-{subdiv}" if subdiv else country


@lru_cache(maxsize=1)
def _snapshot() -> dict[str, dict[str, list[str]]]:
    try:
        return json.loads(SNAPSHOT_PATH.read_text(encoding="utf-8"))["calendars"]
    except FileNotFoundError:
        return {}


def package_dates(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    """Public holidays of the `holidays` package (snapshot for 2020-2040)."""
    stored = _snapshot().get(_package_key(country, subdiv), {}).get(str(year))
    if stored is not None:
        return frozenset(date(year, int(day[:2]), int(day[3:])) for day in stored)
    return live_package_dates(country, subdiv, year)


@lru_cache(maxsize=512)
def live_package_dates(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    import holidays  # slow import: only for years outside the snapshot

    calendar = holidays.country_holidays(country, subdiv=subdiv, years=[year])
    return frozenset(day for day in calendar if day.year == year)


class CalendarBook:
    """Business-day questions answered per named calendar, cached per (calendar, year)."""

    def __init__(self, specs: Mapping[str, CalendarSpec]) -> None:
        self.specs = dict(specs)
        self._years: dict[tuple[str, int], frozenset[date]] = {}
        self._counted: dict[tuple[str, date, int], tuple[date, tuple[date, ...]]] = {}

    def spec(self, name: str) -> CalendarSpec:
        found = self.specs.get(name)
        if found is None:  # a Member State code without an explicit entry: the plain country calendar
            found = self.specs[name] = CalendarSpec(country=name)
        return found

    def holidays(self, name: str, year: int) -> frozenset[date]:
        cached = self._years.get((name, year))
        if cached is None:
            spec = self.spec(name)
            days = set(package_dates(spec.country, spec.subdiv, year))
            days.update(day for day in spec.add if day.year == year)
            days.update(date(year, int(md[:2]), int(md[3:])) for md in spec.annual)
            days.difference_update(spec.remove)
            cached = self._years[(name, year)] = frozenset(days)
        return cached

    def is_business_day(self, name: str | None, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        return name is None or day not in self.holidays(name, day.year)

    def holiday_name(self, name: str | None, day: date) -> str:
        if day.weekday() >= 5:
            return day.strftime("%A")
        return f"holiday ({name})"

    def add_business_days(self, name: str, start: date, count: int) -> tuple[date, tuple[date, ...]]:
        """The `count`-th business day after `start` (start itself never counts) and the days counted.
        Memoised: many incidents of a batch start on the same local day."""
        found = self._counted.get((name, start, count))
        if found is None:
            counted: list[date] = []
            day = start
            while len(counted) < count:
                day += timedelta(days=1)
                if self.is_business_day(name, day):
                    counted.append(day)
            found = self._counted[(name, start, count)] = (day, tuple(counted))
        return found

    def next_business_day(self, name: str | None, after: date) -> date:
        day = after + timedelta(days=1)
        while not self.is_business_day(name, day):
            day += timedelta(days=1)
        return day

    def roll_forward(self, name: str, day: date) -> date:
        """`day` itself if a business day, else the next one."""
        while not self.is_business_day(name, day):
            day += timedelta(days=1)
        return day


def build_snapshot(keys: Iterable[tuple[str, str | None]], years: Iterable[int]) -> dict[str, object]:
    import holidays

    calendars: dict[str, dict[str, list[str]]] = {}
    for country, subdiv in keys:
        per_year = calendars.setdefault(_package_key(country, subdiv), {})
        for year in years:
            days = live_package_dates(country, subdiv, year)
            per_year[str(year)] = sorted(day.strftime("%m-%d") for day in days)
    return {"holidays_package": holidays.__version__, "calendars": calendars}


def main() -> None:
    """Regenerate holiday_snapshot.json for every calendar and Member State in rules.yaml."""
    from tocsin.clock.rules_loader import load_table

    table = load_table()
    keys = {(spec.country, spec.subdiv) for spec in table.calendars.values()}
    keys.update((code, None) for code, state in table.member_states.items() if state.calendar is None)
    snapshot = build_snapshot(sorted(keys, key=lambda item: (item[0], item[1] or "")), SNAPSHOT_YEARS)
    SNAPSHOT_PATH.write_text(json.dumps(snapshot, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT_PATH} ({len(keys)} calendars, {SNAPSHOT_YEARS.start}-{SNAPSHOT_YEARS.stop - 1})")


if __name__ == "__main__":
    main()
