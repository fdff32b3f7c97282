"""Drill mode: a playbook end to end on a simulated clock, every channel captured, simulated people.

The drill gets its own folder (database, outbox, recipients, mentions, scorecard, audit key and checkpoint
log) under $TOCSIN_HOME/drills/, so it never touches real incidents, never signs with the operator's audit key
and never writes to the operator's checkpoint log. Time only moves when nothing can happen
until later: the drill jumps the clock to the next moment something is due (a person answers, a
timeout expires, a reminder falls due, a wait ends) and sleeps (jump / speed) real seconds, so 72
simulated hours take about a minute at the default speed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tocsin.flows.scenario import Scenario, mention_lines, write_recipients
from tocsin.models import RUN_FINISHED, RunStatus
from tocsin.playbooks.schema import parse_duration

from tocsin.audit.checkpoint import CHECKPOINT_FILE
from tocsin.audit.keys import KEY_FILE, create_key_file, read_key_file
from tocsin.core.clocks import FixedClock, iso_utc, use_clock
from tocsin.core.errors import InvalidInput

DEFAULT_SPEED = 72 * 3600 / 60  # 72 simulated hours in one real minute

Echo = Callable[[str], None]


@dataclass
class DrillResult:
    folder: Path
    incident_id: int
    run_id: int
    status: str
    scorecard: dict[str, Any]
    stuck: str | None = None
    flow_runs: int = 0
    real_seconds: float = 0.0
    timeline: list[str] = field(default_factory=list)


DRILLS = "drills"


def prepare_folder(base_home: Path, playbook: str, start: datetime) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    folder = base_home / DRILLS / f"{stamp}-{playbook}"
    folder.mkdir(parents=True, exist_ok=False)
    return folder


AUDIT_ENV = ("TOCSIN_AUDIT_KEY", "TOCSIN_AUDIT_RETIRED_KEYS", "TOCSIN_AUDIT_CHECKPOINT_FILE")
DRILL_ENV = (
    "TOCSIN_HOME",
    "TOCSIN_DATABASE_URL",
    "TOCSIN_SLACK_TOKEN",
    "TOCSIN_SENDGRID_API_KEY",
    "PREFECT_HOME",
    *AUDIT_ENV,
)
DRILL_DATABASE = "tocsin.db"


def drill_audit_env(folder: Path, *, create: bool) -> dict[str, str]:
    """The settings that point at a drill's own database, audit key and checkpoint log (all in its folder), over
    whatever the operator configured (the environment wins over .env and tocsin.toml). `create`: a new drill
    generates its key; verifying an existing drill needs the one it signed with."""
    key_path = folder / KEY_FILE
    key = create_key_file(key_path) if create else read_key_file(key_path)
    if key is None:
        raise InvalidInput("not a drill folder: it has no audit key", where=str(key_path))
    if not create and not (folder / DRILL_DATABASE).is_file():
        raise InvalidInput("not a drill folder: it has no database", where=str(folder / DRILL_DATABASE))
    return {
        "TOCSIN_DATABASE_URL": f"sqlite:///{folder / DRILL_DATABASE}",
        "TOCSIN_AUDIT_KEY": key.decode(),
        "TOCSIN_AUDIT_RETIRED_KEYS": "[]",
        "TOCSIN_AUDIT_CHECKPOINT_FILE": str(folder / CHECKPOINT_FILE),
    }


def own_drill_folder(database_url: str, home: Path) -> Path | None:
    """The drill folder under this home's `drills/` whose database `database_url` names, if it is one. Such a
    folder is as trusted as $TOCSIN_HOME/audit-key itself (whoever can write one can write the other), so its
    key may verify its database; a key beside any other database is never trusted."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix):
        return None
    database = Path(database_url.removeprefix(prefix)).resolve()
    folder = database.parent
    drills = (home / DRILLS).resolve()
    if database.name != DRILL_DATABASE or folder.parent != drills or not (folder / KEY_FILE).is_file():
        return None
    return folder


@contextmanager
def drill_settings(folder: Path, *, create: bool = False) -> Iterator[None]:
    """Point this process at a drill's database, audit key and checkpoint log (`tocsin audit verify --drill`),
    then restore the settings."""
    values = drill_audit_env(folder, create=create)
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    _reset_state()
    try:
        yield
    finally:
        _restore(saved)
        _reset_state()


def _restore(saved: dict[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _reset_state() -> None:
    from tocsin.core.config import get_settings
    from tocsin.db import migrate
    from tocsin.db.engine import dispose_engines

    get_settings.cache_clear()
    dispose_engines()
    migrate._checked.clear()


@contextmanager
def drill_home(folder: Path, prefect_home: Path) -> Iterator[None]:
    """Point this process at the drill's own database and outbox while the drill runs (Prefect's state
    stays shared, so its database is not migrated again), then restore everything."""
    saved = {key: os.environ.get(key) for key in DRILL_ENV}
    os.environ["TOCSIN_HOME"] = str(folder)
    # Its own database, and its own audit key and checkpoint log: never the operator's (a simulated clock's
    # checkpoint in the production log, or production's key signing simulated events).
    os.environ.update(drill_audit_env(folder, create=True))
    os.environ.setdefault("PREFECT_HOME", str(prefect_home))
    for key in ("TOCSIN_SLACK_TOKEN", "TOCSIN_SENDGRID_API_KEY"):
        os.environ[key] = ""  # a drill never reaches real people (empty also overrides .env and tocsin.toml)
    _reset_state()
    try:
        yield
    finally:
        _restore(saved)
        _reset_state()


def run_drill(
    scenario: Scenario,
    *,
    playbook: str | None = None,
    speed: float = DEFAULT_SPEED,
    use_prefect: bool = True,
    echo: Echo = print,
) -> DrillResult:
    from tocsin.core.config import get_settings

    base_home = get_settings().home
    playbook = playbook or scenario.playbook
    folder = prepare_folder(base_home, playbook, scenario.start)
    clock = FixedClock(scenario.start)
    previous = use_clock(clock)
    try:
        with drill_home(folder, base_home / "prefect"):
            return _run(scenario, playbook, folder, clock, speed, use_prefect, echo)
    finally:
        use_clock(previous)


def _run(
    scenario: Scenario, playbook: str, folder: Path, clock: FixedClock, speed: float, use_prefect: bool, echo: Echo
) -> DrillResult:
    from tocsin.flows.drill_mentions import DrillMentions
    from tocsin.flows.drill_people import SimulatedTeam
    from tocsin.flows.drill_setup import declare_scenario
    from tocsin.flows.scorecard import scorecard, write_scorecard

    from tocsin.audit.checkpoint import checkpoint_now
    from tocsin.core.config import get_settings

    started = time.monotonic()
    inputs = dict(scenario.inputs)
    if scenario.recipients is not None:
        inputs["recipients"] = str(write_recipients(scenario.recipients, folder / "recipients.csv"))
    if scenario.mentions is not None:
        mentions = folder / "mentions.jsonl"
        mentions.write_text("\n".join(mention_lines(scenario.mentions, scenario.start)) + "\n")
        inputs["mentions"] = str(mentions)
    incident_id, run_id = declare_scenario(scenario, playbook, inputs)
    team = SimulatedTeam(scenario, incident_id)
    log = TimelineEcho(incident_id, scenario.start, echo)
    echo(f"Drill {scenario.name!r}: playbook {playbook}, incident INC-{incident_id}, folder {folder}")
    feed = DrillMentions(folder / "mentions.jsonl", incident_id) if scenario.mentions is not None else None
    phase = _phase_runner(use_prefect)
    horizon = scenario.start + parse_duration(scenario.horizon)
    status, stuck, phases, due = RunStatus.running, None, 0, True
    while True:
        finished = status in RUN_FINISHED
        if not finished and (due or _run_due(run_id, clock.now())):
            status, phases = phase(run_id), phases + 1
            finished = status in RUN_FINISHED
            log.flush()
        upcoming = team.next_moment(run_id, clock.now(), include_run=not finished)
        if feed is not None and feed.next_moment() is not None:
            tick = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            upcoming = min(upcoming, tick) if upcoming else tick
        if upcoming is None or upcoming > horizon:
            stuck = None if finished else team.waiting_on(run_id)
            break
        # Once the playbook has finished, the rest (tasks, the mention stream) plays out without waiting.
        _sleep_until(clock, upcoming, 0 if finished else speed)
        due = bool(team.act(clock.now()))
        if feed is not None:
            feed.release_until(clock.now())
        log.flush()
    card = scorecard(incident_id, run_id, scenario)
    card["drill"] = {
        "phases": phases,
        "real_seconds": round(time.monotonic() - started, 1),
        "speed": speed,
        "status": status,
        "stuck": stuck,
        "folder": str(folder),
    }
    write_scorecard(card, folder)
    # The drill's timeline, signed with the drill's key, into the drill's own log (`audit verify --drill FOLDER`).
    checkpoint_now(get_settings())
    return DrillResult(folder, incident_id, run_id, status, card, stuck, phases, time.monotonic() - started)


def _run_due(run_id: int, now: datetime) -> bool:
    from tocsin.models.playbook_run import PlaybookRun

    from tocsin.db.engine import session_scope

    with session_scope() as session:
        run = session.get(PlaybookRun, run_id)
        return run is not None and run.wake_at is not None and run.wake_at <= now


def _phase_runner(use_prefect: bool) -> Callable[[int], str]:
    if use_prefect:
        from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
        from tocsin.flows.playbook_flow import playbook_flow

        def phase(run_id: int) -> str:
            # In-process drill phases: no heartbeat thread to join at the end of each flow run (~0.4 s each).
            with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                return playbook_flow(run_id)

        return phase
    from tocsin.flows.runner import advance

    return advance


def _sleep_until(clock: FixedClock, moment: datetime, speed: float) -> None:
    jump = (moment - clock.now()).total_seconds()
    if speed > 0 and jump > 0:
        time.sleep(min(jump / speed, 30.0))
    clock.instant = max(clock.instant, moment)


class TimelineEcho:
    """Prints each new timeline event as `T+hh:mm  action  details` while the drill runs."""

    def __init__(self, incident_id: int, start: datetime, echo: Echo) -> None:
        self.incident_id, self.start, self.echo, self.seen = incident_id, start, echo, 0

    def stamp(self, moment: datetime) -> str:
        minutes = int((moment - self.start) / timedelta(minutes=1))
        sign = "-" if minutes < 0 else "+"
        hours, rest = divmod(abs(minutes), 60)
        return f"T{sign}{hours:02d}:{rest:02d}  "

    def flush(self) -> None:
        from tocsin.audit.timeline import timeline
        from tocsin.db.engine import session_scope

        with session_scope() as session:
            events = timeline(session, self.incident_id)[self.seen :]
            self.seen += len(events)
            for event in events:
                if event.action in ("playbook.flow_run",):
                    continue
                self.echo(self.stamp(event.at) + describe(event.action, event.actor, event.payload))


def describe(action: str, actor: str, payload: dict[str, Any]) -> str:
    keys = (
        "step",
        "kind",
        "rule",
        "role",
        "person",
        "to",
        "paged",
        "note",
        "deadline_utc",
        "decision",
        "comment",
        "channel",
        "status",
        "reason",
        "draft",
        "summary",
    )
    details = ", ".join(f"{k}={payload[k]}" for k in keys if payload.get(k) not in (None, "", [], {}))
    return f"{action:<28} {actor:<9} {details}"[:220]


__all__ = ["DEFAULT_SPEED", "DrillResult", "iso_utc", "run_drill"]
