"""Who is acting, and through which door: every action takes an `Actor`.

The door is recorded on every timeline event the action writes (`via`, and for the local CLI the operating-
system user), so the record says whether a change came through the API with a token, the console with a
log-in, Slack with a signed request, the local CLI on the database itself, a drill's simulated team, or
Tocsin's own playbook steps.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Via(StrEnum):
    local = "local"  # the CLI on the database itself (the embedded default)
    api = "api"  # a bearer token (the JSON API, and the CLI in client mode)
    console = "console"  # a web-console log-in
    slack = "slack"  # a signed Slack request from a linked Slack user
    drill = "drill"  # a drill's simulated team
    system = "system"  # Tocsin itself (playbook steps, the scheduler): not checked by the policy


@dataclass(frozen=True)
class Actor:
    handle: str
    via: Via
    os_user: str | None = None  # local mode: who ran the command
    claimed: bool = False  # local mode: the handle came from --as / TOCSIN_USER, not the OS user
    slack_user: str | None = None

    @classmethod
    def local(cls, handle: str, *, claimed: bool) -> Actor:
        return cls(handle, Via.local, os_user=_os_user(), claimed=claimed)

    @classmethod
    def system(cls, handle: str = "tocsin") -> Actor:
        return cls(handle, Via.system)

    @property
    def checked(self) -> bool:
        """Whether the policy applies (everyone but Tocsin itself)."""
        return self.via is not Via.system

    def record(self) -> dict[str, Any]:
        """What every timeline event of the action carries about the door."""
        data: dict[str, Any] = {"via": self.via.value}
        if self.via is Via.local:
            data["os_user"] = self.os_user
            if self.claimed:
                data["as"] = self.handle
        if self.slack_user:
            data["slack_user"] = self.slack_user
        return data


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (containers): still say something true
        return "unknown"


_door: ContextVar[dict[str, Any] | None] = ContextVar("tocsin_door", default=None)


@contextmanager
def acting(actor: Actor) -> Iterator[None]:
    """Within this block, every appended timeline event records the actor's door."""
    token = _door.set(actor.record())
    try:
        yield
    finally:
        _door.reset(token)


def current_door() -> dict[str, Any] | None:
    return _door.get()
