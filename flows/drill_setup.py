"""Setting up a drill's incident and team from its scenario."""

from __future__ import annotations

from typing import Any

from tocsin.flows.launch import launch
from tocsin.flows.scenario import Scenario
from tocsin.models.enums import Role
from tocsin.playbooks.schema import parse_duration

from tocsin.db.engine import session_scope
from tocsin.incidents.service import Declaration, assign, declare
from tocsin.people.directory import upsert_person


def declare_scenario(scenario: Scenario, playbook: str, inputs: dict[str, Any]) -> tuple[int, int]:
    commander = next((m.handle for m in scenario.people if m.role == Role.commander), scenario.people[0].handle)
    aware = scenario.start - parse_duration(scenario.incident.aware_before_start)
    document = scenario.facts_document(aware)
    with session_scope() as session:
        for member in scenario.people:
            upsert_person(session, member.handle, name=member.name, email=member.email, locale=member.locale)
        incident = declare(
            session,
            Declaration(
                kind=scenario.incident.kind,
                title=scenario.incident.title,
                severity=scenario.incident.severity,
                aware_at=aware,
                commander=commander,
                facts=document,
                locale=scenario.incident.locale,
                timezone=(document.get("entity") or {}).get("timezone", "UTC"),
            ),
            actor=commander,
        )
        incident_id = incident.id or 0
        for member in scenario.people:
            if member.handle != commander or member.role != Role.commander:
                assign(session, incident_id, member.role.value, member.handle, actor=commander)
    return incident_id, launch(incident_id, playbook, inputs=inputs, actor=commander, drill=True)
