"""Every action, and how each door that offers it is asked to take it in the world's scene.

A case names the action, what the scene needs (`World` pieces), and per door the request: CLI arguments (the
same for the local CLI and the CLI as a client of `tocsin serve`), an API call, a console form, a Slack request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.policy.world import GDPR_FACTS, World
from tocsin.policy import Action

Cli = Callable[[World, Path], tuple[list[str], str | None]]  # (arguments, standard input)
ApiCall = Callable[[World], tuple[str, str, Any]]  # (method, path, JSON body)
Form = Callable[[World], tuple[str, dict[str, str]]]  # (path, fields)
SlackCall = Callable[[World], tuple[str, dict[str, Any]]]  # ("action" | "command", what)


@dataclass(frozen=True)
class Case:
    action: Action
    needs: frozenset[str] = frozenset()
    cli: Cli | None = None
    api: ApiCall | None = None
    console: Form | None = None
    slack: SlackCall | None = None
    incident: bool = True  # a refusal lands on the world's incident timeline
    local_only: bool = False  # the CLI command needs the database itself (not offered in client mode)
    notes: dict[str, str] = field(default_factory=dict)


def _file(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _draft(world: World, what: str) -> int:
    return world.drafts[what]


def _sha(world: World, what: str) -> str:
    return world.hashes[what]


IN_REVIEW = "in_review:individuals"

CASES: list[Case] = [
    Case(
        Action.declare,
        cli=lambda w, d: (["declare", "--title", "Another one"], None),
        api=lambda w: ("POST", "/api/incidents", {"title": "Another one"}),
        console=lambda w: ("/incidents", {"title": "Another one", "kind": "breach", "severity": "SEV2"}),
        slack=lambda w: ("command", {"text": 'declare --title "Another one" --severity SEV3'}),
        incident=False,
    ),
    Case(
        Action.assign_role,
        cli=lambda w, d: (["assign", str(w.incident_id), "observer", "newbie"], None),
        api=lambda w: ("POST", f"/api/incidents/{w.incident_id}/roles", {"role": "observer", "person": "newbie"}),
    ),
    Case(
        Action.unassign_role,
        cli=lambda w, d: (["unassign", str(w.incident_id), "observer", "obs"], None),
        api=lambda w: ("DELETE", f"/api/incidents/{w.incident_id}/roles/observer/obs", None),
    ),
    Case(
        Action.change_status,
        cli=lambda w, d: (["status", str(w.incident_id), "investigating", "--reason", "logs"], None),
        api=lambda w: ("POST", f"/api/incidents/{w.incident_id}/status", {"status": "investigating"}),
        console=lambda w: (f"/incidents/{w.incident_id}/status", {"status": "investigating", "reason": "logs"}),
    ),
    Case(
        Action.close,
        cli=lambda w, d: (["close", str(w.incident_id), "--reason", "false alarm"], None),
        api=lambda w: ("POST", f"/api/incidents/{w.incident_id}/close", {"reason": "false alarm"}),
        console=lambda w: (f"/incidents/{w.incident_id}/status", {"status": "closed", "reason": "false alarm"}),
    ),
    Case(
        Action.replace_facts,
        cli=lambda w, d: (["facts", str(w.incident_id), _file(d, "facts.json", json.dumps(GDPR_FACTS))], None),
        api=lambda w: ("PUT", f"/api/incidents/{w.incident_id}/facts", GDPR_FACTS),
    ),
    Case(
        Action.record_event,
        cli=lambda w, d: (["event", str(w.incident_id), "consumers_notified"], None),
        api=lambda w: ("POST", f"/api/incidents/{w.incident_id}/events", {"event": "consumers_notified"}),
    ),
    Case(
        Action.record_submission,
        needs=frozenset({"facts"}),
        cli=lambda w, d: (["submit", str(w.incident_id), w.rule, "--note", "portal ref 1"], None),
        api=lambda w: ("POST", f"/api/incidents/{w.incident_id}/events", {"submitted": w.rule}),
        console=lambda w: (f"/incidents/{w.incident_id}/obligations/{w.rule}/submit", {"note": "portal ref 1"}),
    ),
    Case(
        Action.draft,
        cli=lambda w, d: (["draft", str(w.incident_id), "status_update", "--vars", _file(d, "v.json", VARS)], None),
        api=lambda w: (
            "POST",
            f"/api/incidents/{w.incident_id}/drafts",
            {"template": "status_update", "inputs": json.loads(VARS)},
        ),
    ),
    Case(
        Action.edit_draft,
        needs=frozenset({"drafted:internal"}),
        cli=lambda w, d: (["draft", "edit", str(_draft(w, "drafted:internal")), "--subject", "Revised"], None),
        api=lambda w: ("POST", f"/api/drafts/{_draft(w, 'drafted:internal')}/edit", {"subject": "Revised"}),
    ),
    Case(
        Action.submit_for_review,
        needs=frozenset({"drafted:internal"}),
        cli=lambda w, d: (["review", str(_draft(w, "drafted:internal"))], None),
        api=lambda w: ("POST", f"/api/drafts/{_draft(w, 'drafted:internal')}/review", None),
    ),
    Case(
        Action.approve,
        needs=frozenset({"in_review:individuals"}),
        cli=lambda w, d: (
            ["approve", str(_draft(w, "in_review:individuals")), "--hash", _sha(w, "in_review:individuals")],
            None,
        ),
        api=lambda w: (
            "POST",
            f"/api/drafts/{_draft(w, 'in_review:individuals')}/approve",
            {"sha256": _sha(w, "in_review:individuals")},
        ),
        console=lambda w: (
            f"/drafts/{_draft(w, 'in_review:individuals')}/approve",
            {"sha256": _sha(w, "in_review:individuals")},
        ),
        slack=lambda w: (
            "approve",
            {"draft": _draft(w, "in_review:individuals"), "sha": _sha(w, "in_review:individuals")},
        ),
    ),
    Case(
        Action.reject,
        needs=frozenset({"in_review:individuals"}),
        cli=lambda w, d: (["reject", str(_draft(w, "in_review:individuals")), "--comment", "Say when."], None),
        api=lambda w: ("POST", f"/api/drafts/{_draft(w, 'in_review:individuals')}/reject", {"comment": "Say when."}),
        console=lambda w: (f"/drafts/{_draft(w, 'in_review:individuals')}/reject", {"comment": "Say when."}),
        slack=lambda w: ("reject", {"draft": _draft(w, "in_review:individuals")}),
    ),
    Case(
        Action.send_to_public,
        needs=frozenset({"approved:individuals"}),
        cli=lambda w, d: (["draft", "mark-sent", str(_draft(w, "approved:individuals")), "--reference", "r"], None),
        api=lambda w: ("POST", f"/api/drafts/{_draft(w, 'approved:individuals')}/sent", {"reference": "r"}),
    ),
    Case(
        Action.file_with_regulator,
        needs=frozenset({"approved:regulator"}),
        cli=lambda w, d: (["draft", "mark-sent", str(_draft(w, "approved:regulator")), "--reference", "r"], None),
        api=lambda w: ("POST", f"/api/drafts/{_draft(w, 'approved:regulator')}/sent", {"reference": "r"}),
    ),
    Case(
        Action.send_internal,
        needs=frozenset({"approved:internal"}),
        cli=lambda w, d: (["draft", "mark-sent", str(_draft(w, "approved:internal")), "--reference", "r"], None),
        api=lambda w: ("POST", f"/api/drafts/{_draft(w, 'approved:internal')}/sent", {"reference": "r"}),
    ),
    Case(
        Action.launch,
        cli=lambda w, d: (["launch", "social-crisis", "--incident", str(w.incident_id)], None),
        api=lambda w: ("POST", f"/api/incidents/{w.incident_id}/playbooks", {"playbook": "social-crisis"}),
        console=lambda w: (f"/incidents/{w.incident_id}/launch", {"playbook": "social-crisis"}),
    ),
    Case(
        Action.playbook_input,
        needs=frozenset({"run"}),
        cli=lambda w, d: (["playbook", "input", str(w.run_id), "summary=Found it"], None),
        api=lambda w: ("POST", f"/api/runs/{w.run_id}/inputs", {"inputs": {"summary": "Found it"}}),
    ),
    Case(
        Action.ack,
        needs=frozenset({"escalation"}),
        cli=lambda w, d: (["ack", str(w.escalation_id)], None),
        api=lambda w: ("POST", f"/api/escalations/{w.escalation_id}/ack", None),
        console=lambda w: (f"/escalations/{w.escalation_id}/ack", {}),
        slack=lambda w: ("ack", {"escalation": w.escalation_id}),
    ),
    Case(
        Action.task_done,
        needs=frozenset({"task"}),
        cli=lambda w, d: (["task", "done", str(w.task_id)], None),
        api=lambda w: ("POST", f"/api/tasks/{w.task_id}/done", None),
    ),
    Case(
        Action.raise_alerts,
        cli=lambda w, d: (
            ["sentiment", "raise", _file(d, "m.jsonl", MENTION), "--incident", str(w.incident_id)],
            None,
        ),
        local_only=True,
    ),
    Case(
        Action.add_person,
        cli=lambda w, d: (["people", "add", f"zed{w.incident_id}", "--name", "Zed"], None),
        api=lambda w: ("POST", "/api/people", {"handle": f"zed{w.incident_id}", "name": "Zed"}),
        incident=False,
    ),
    Case(
        Action.grant_admin,
        cli=lambda w, d: (["people", "admin", "newbie", "--revoke"], None),
        api=lambda w: ("POST", "/api/people/newbie/admin", {"admin": False}),
        incident=False,
    ),
    Case(
        Action.set_password,
        cli=lambda w, d: (["people", "passwd", "newbie", "--password-stdin"], "a long enough password\n"),
        api=lambda w: ("PUT", "/api/people/newbie/password", {"password": "a long enough password"}),
        incident=False,
    ),
    Case(
        Action.mint_token,
        cli=lambda w, d: (["token", "create", "newbie", "--name", "for newbie"], None),
        api=lambda w: ("POST", "/api/tokens", {"person": "newbie", "name": "for newbie"}),
        incident=False,
    ),
    Case(
        Action.revoke_token,
        needs=frozenset({"token"}),
        cli=lambda w, d: (["token", "revoke", str(w.token_id)], None),
        api=lambda w: ("DELETE", f"/api/tokens/{w.token_id}", None),
        incident=False,
    ),
    Case(
        Action.suppress,
        cli=lambda w, d: (["suppress", "add", f"gone{w.incident_id}@example.org", "--reason", "opt-out"], None),
        api=lambda w: ("POST", "/api/suppressions", {"email": f"gone{w.incident_id}@example.org", "reason": "opt-out"}),
        incident=False,
    ),
]

VARS = json.dumps(
    {
        "what_changed": "The exported file was found.",
        "current_impact": "No ongoing access.",
        "next_steps": "Legal approves the notice today.",
        "next_update": "18:00 CET",
    }
)
MENTION = json.dumps({"id": "1", "created_at": "2026-12-01T10:00:00+00:00", "text": "all fine"}) + "\n"
