"""The role policy: who may take each action, as data. One table for every door (CLI, API, console, Slack).

Roles are held per incident (`commander`, `legal`, `comms`, `it`, `dpo`, `observer`); `admin` is global (the
directory's admins). A rule lists who may act and the conditions that hold whoever acts (`Condition`). The
README's policy table is printed from `POLICY` (`tocsin policy`) and a test checks the two agree.

Why the table is as it is (a privacy team's reading of separation of duties):
- Steering (status, close, launch, roles) belongs to the commander; admins stand in when a commander is absent.
  Nobody grants themselves a role, admins included: a role is what lets a person approve or file, so holding
  one must always be someone else's decision, on the record.
- What the clock counts from (facts, events, submissions) is the commander's, legal's or the DPO's word: these
  start and stop regulators' deadlines. Admins are not in it: an administrator of the tool is not a witness.
- Drafts are written by those who speak for the organisation (commander, legal, comms, DPO); legal decides, and
  never on a text it wrote (four-eyes). A playbook may ask for two approvers.
- An approved notice goes out by the people answerable for its audience: customer and public notices by comms
  or the commander, regulator filings by legal, the DPO or the commander, internal updates by any responder.
- A page is acknowledged by a person it reached; a checklist task by the role it is for, or the commander.
- The directory (people, admins) is the admins'; a token or a password is its owner's own (admins for others).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tocsin.models.enums import Role


class Action(StrEnum):
    """Every state-changing action. The value is the timeline verb; a refusal is recorded as `<value>_refused`."""

    declare = "incident.declare"
    assign_role = "role.assign"
    unassign_role = "role.unassign"
    change_status = "incident.status"
    close = "incident.close"
    replace_facts = "incident.facts"
    record_event = "clock.event"
    record_submission = "clock.submission"
    draft = "draft.create"
    edit_draft = "draft.edit"
    submit_for_review = "draft.review"
    approve = "draft.approval"
    reject = "draft.rejection"
    send_to_public = "draft.send_public"
    file_with_regulator = "draft.file"
    send_internal = "draft.send_internal"
    launch = "playbook.launch"
    playbook_input = "playbook.input"
    upload = "upload.create"
    ack = "escalation.ack"
    task_done = "task.done"
    raise_alerts = "sentiment.raise"
    add_person = "person.add"
    grant_admin = "person.admin"
    set_password = "person.password"
    mint_token = "token.create"
    revoke_token = "token.revoke"
    suppress = "suppression.add"
    resolve_in_doubt = "notice.in_doubt_resolved"


class Condition(StrEnum):
    """What must also hold, whoever acts."""

    not_author = "not an author of the draft (four-eyes)"
    not_self_grant = "not a role for oneself"
    self_or_admin = "for oneself, or by an admin"
    paged = "reached by the page"
    task_role = "holds the task's role, or is the commander"
    declarer_first_launch = "or the declarer, for the first playbook while declaring"
    bootstrap = "or, while the directory has no admin, the local operator"


ANYONE = "anyone in the directory"


@dataclass(frozen=True)
class Rule:
    action: Action
    roles: frozenset[Role] = frozenset()  # incident roles that may act
    admin: bool = False  # a directory admin may act
    anyone: bool = False  # any known person may act
    conditions: tuple[Condition, ...] = ()
    incident: bool = True  # the action is on an incident (roles are read there)
    why: str = ""

    def who(self) -> str:
        """The rule in words: `commander, admin; not a role for oneself`."""
        parts = [ANYONE] if self.anyone else [r.value for r in Role if r in self.roles]
        if self.admin and not self.anyone:
            parts.append("admin")
        text = ", ".join(parts) or "nobody"
        if self.conditions:
            text += "; " + "; ".join(c.value for c in self.conditions)
        return text


C, L, CO, IT, DPO = Role.commander, Role.legal, Role.comms, Role.it, Role.dpo
RESPONDERS = frozenset({C, L, CO, IT, DPO})


def _rules(*rules: Rule) -> dict[Action, Rule]:
    return {rule.action: rule for rule in rules}


POLICY: dict[Action, Rule] = _rules(
    Rule(Action.declare, anyone=True, incident=False, why="anyone may raise the alarm"),
    Rule(Action.assign_role, frozenset({C}), admin=True, conditions=(Condition.not_self_grant,)),
    Rule(Action.unassign_role, frozenset({C}), admin=True),
    Rule(Action.change_status, frozenset({C}), admin=True),
    Rule(Action.close, frozenset({C}), admin=True),
    Rule(Action.replace_facts, frozenset({C, L, DPO})),
    Rule(Action.record_event, frozenset({C, L, DPO})),
    Rule(Action.record_submission, frozenset({C, L, DPO})),
    Rule(Action.draft, frozenset({C, L, CO, DPO})),
    Rule(Action.edit_draft, frozenset({C, L, CO, DPO})),
    Rule(Action.submit_for_review, frozenset({C, L, CO, DPO})),
    Rule(Action.approve, frozenset({L}), conditions=(Condition.not_author,)),
    Rule(Action.reject, frozenset({L})),
    Rule(Action.send_to_public, frozenset({C, CO})),
    Rule(Action.file_with_regulator, frozenset({C, L, DPO})),
    Rule(Action.send_internal, RESPONDERS),
    Rule(Action.launch, frozenset({C}), admin=True, conditions=(Condition.declarer_first_launch,)),
    Rule(Action.playbook_input, frozenset({C, L, DPO}), admin=True),
    # a file for a launch or a run's inputs: only those who may launch or give inputs somewhere, so a token alone
    # cannot fill the server's disk (and each person's unused uploads are capped: tocsin.flows.uploads)
    Rule(Action.upload, frozenset({C, L, DPO}), admin=True, incident=False),
    Rule(Action.ack, anyone=True, conditions=(Condition.paged,)),
    Rule(Action.task_done, anyone=True, conditions=(Condition.task_role,)),
    Rule(Action.raise_alerts, frozenset({C, CO}), admin=True),
    Rule(Action.add_person, admin=True, incident=False, conditions=(Condition.bootstrap,)),
    Rule(Action.grant_admin, admin=True, incident=False, conditions=(Condition.bootstrap,)),
    Rule(Action.set_password, anyone=True, incident=False, conditions=(Condition.self_or_admin, Condition.bootstrap)),
    Rule(Action.mint_token, anyone=True, incident=False, conditions=(Condition.self_or_admin, Condition.bootstrap)),
    Rule(Action.revoke_token, anyone=True, incident=False, conditions=(Condition.self_or_admin,)),
    Rule(Action.suppress, frozenset({CO, L, DPO}), admin=True, incident=False),
    # who may send the wave decides whether its in-doubt request is sent again
    Rule(Action.resolve_in_doubt, frozenset({C, CO})),
)


# Incident roles and the directory's admin, as the policy table's columns.
COLUMNS: tuple[str, ...] = (*(r.value for r in Role), "admin")


def allowed_columns(rule: Rule) -> dict[str, bool]:
    """Which columns of the table may take the action (before its conditions)."""
    cells = {r.value: rule.anyone or r in rule.roles for r in Role}
    cells["admin"] = rule.anyone or rule.admin
    return cells


def table_markdown() -> str:
    """The policy as the README's table: action × role, ✓ where the role may act, then the conditions."""
    header = "| action | " + " | ".join(COLUMNS) + " | also |"
    lines = [header, "|" + "---|" * (len(COLUMNS) + 2)]
    for action, rule in POLICY.items():
        cells = allowed_columns(rule)
        also = "; ".join(c.value for c in rule.conditions)
        if rule.anyone:
            also = f"{ANYONE}{'; ' + also if also else ''}"
        marks = " | ".join("✓" if cells[c] else "" for c in COLUMNS)
        lines.append(f"| `{action.value}` | {marks} | {also} |")
    return "\n".join(lines)
