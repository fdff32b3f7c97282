"""What the policy table says each member of the cast may do, read from the table's data (`tocsin.policy.POLICY`)
and the scene the world sets (who wrote the drafts, whom the page reached, whose task it is, whose token).

This reads only the table, never `tocsin.people.authorize`: the doors are checked against the data."""

from __future__ import annotations

from tocsin.models.enums import Role

from tests.policy.world import CAST
from tocsin.policy import POLICY, Action, Condition

# The roles each member holds on the world's incident, and whether they are an admin.
HELD: dict[str, set[Role]] = {
    "commander": {Role.commander},
    "legal": {Role.legal},
    "comms": {Role.comms},
    "it": {Role.it},
    "dpo": {Role.dpo},
    "observer": {Role.observer},
    "no role": set(),
    "admin": set(),
    "author": {Role.legal},
}
PAGED = {"it"}  # the world's escalation pages the it role (itp)
TASK_ROLE = Role.it  # the world's checklist task is for it


def may(action: Action, member: str) -> bool:
    """Whether `member` (a key of CAST) may take `action` in the world's scene (acting for someone else where the
    action is about a person: the target is `newbie`)."""
    rule = POLICY[action]
    held = HELD[member]
    admin = member == "admin"
    allowed = rule.anyone or bool(held & rule.roles) or (rule.admin and admin)
    if not allowed:
        return False
    for condition in rule.conditions:
        if condition is Condition.not_author and member == "author":
            return False
        if condition is Condition.paged and member not in PAGED:
            return False
        if condition is Condition.task_role and not ({TASK_ROLE, Role.commander} & held):
            return False
        if condition is Condition.self_or_admin and not admin:
            return False  # the world's target is newbie, never the actor
    return True


MEMBERS = list(CAST)
