"""Setting up a drill's incident and team from its scenario, through the same doors people use.

The directory is set up by Tocsin itself (`Actor.system("drill")`): a fresh drill database has no admin, and
putting the scenario's people in it is preparing the exercise, not a person acting. Everything after that is
the scenario's commander acting through the actions (`via: drill` on the timeline), under the role policy:
declaring, giving everyone else their role, launching the playbook. The drill's own loop advances the run, so
nothing here wakes it (`wake_nothing`) and the launch only records the run.
"""

from __future__ import annotations

from typing import Any

from tocsin.flows.launch import launch
from tocsin.flows.scenario import Scenario
from tocsin.models.enums import Role
from tocsin.playbooks.schema import parse_duration

from tocsin.core.acting import Actor, Via
from tocsin.core.wakeup import wake_nothing
from tocsin.incidents import actions as incident_actions
from tocsin.people import actions as people_actions

SETUP = Actor.system("drill")


def member(handle: str) -> Actor:
    """A simulated person acting through the doors."""
    return Actor(handle, Via.drill)


def declare_scenario(scenario: Scenario, playbook: str, inputs: dict[str, Any]) -> tuple[int, int]:
    commander = scenario.commander
    aware = scenario.start - parse_duration(scenario.incident.aware_before_start)
    document = scenario.facts_document(aware)
    for person in scenario.people:
        people_actions.add_person(SETUP, person.handle, name=person.name, email=person.email, locale=person.locale)
    as_commander = member(commander)
    declared = incident_actions.declare(
        as_commander,
        title=scenario.incident.title,
        kind=scenario.incident.kind.value,
        severity=scenario.incident.severity.value,
        aware_at=aware,
        commander=commander,
        facts=document,
        facts_where=f"scenario {scenario.name!r}, incident.facts",
        locale=scenario.incident.locale,
        timezone=(document.get("entity") or {}).get("timezone", "UTC"),
        waker=wake_nothing,
    )
    incident_id = int(declared["id"])
    for person in scenario.people:
        if person.handle == commander and person.role == Role.commander:
            continue  # declared the commander
        # Nobody gives themselves a role: a commander who also holds another role in the scenario is refused
        # here, as they would be at any door (give that role to someone else in the scenario).
        incident_actions.assign_role(as_commander, incident_id, person.role.value, person.handle, waker=wake_nothing)
    # The launch action would also start the run (its urgent steps, then a background phase on the real clock);
    # a drill records the run as the commander, under the same `playbook.launch` rule, and runs every phase itself.
    run_id = launch(incident_id, playbook, inputs=inputs, actor=as_commander, drill=True)
    return incident_id, run_id
