"""Timeline events for people, on the incident page: a one-line summary that leads with what matters (the draft,
the obligation, the new status…), and every detail as (name, value) pairs for a <details>.

Pure formatting of the payloads the services write (the same `serialize.event_summary` leaves out: the facts
document and empty values). SHA-256 values are shortened to their first 12 characters (as the CLI shows them),
ISO instants are shown in the viewer's zone, lists are joined and small maps become `key value` pairs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tocsin.core.clocks import parse_instant, zone

SUMMARY_CHARS = 120
HASH = re.compile(r"\b([0-9a-f]{12})[0-9a-f]{52}\b")
INSTANT = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)")
# Shown first, in this order; the other keys follow in the payload's order.
FIRST = ("draft", "rule", "recipient", "citation", "from", "to", "role", "person", "playbook", "wave", "template")
# Events that decide something (tinted green on the page) and refusals or failures (tinted red; so is every
# `<action>_refused` event the policy records, see `is_refusal`).
DECISIVE = {"draft.approved", "draft.sent", "obligation.submitted", "notice.wave_finished", "escalation.acknowledged"}
ALARMING = {
    "draft.rejected",
    "slack.refused",
    "escalation.unacknowledged",
    "obligation.overdue",
    "message.failed",
    "notice.wave_failed",
}
REFUSED = "_refused"
# What was attempted, in words, for a refusal's summary (keyed by the policy's action; others show the action).
ATTEMPTS = {
    "incident.declare": "declaring",
    "role.assign": "role assignment",
    "role.unassign": "role removal",
    "incident.status": "status change",
    "incident.close": "closing",
    "incident.facts": "facts change",
    "clock.event": "clock event",
    "clock.submission": "recording a submission",
    "draft.create": "drafting",
    "draft.edit": "edit",
    "draft.review": "sending to review",
    "draft.approval": "approve",
    "draft.rejection": "reject",
    "draft.send_public": "sending",
    "draft.file": "filing",
    "draft.send_internal": "sending",
    "playbook.launch": "playbook launch",
    "playbook.input": "playbook input",
    "escalation.ack": "acknowledgement",
    "task.done": "task done",
    "sentiment.raise": "raising alerts",
    "suppression.add": "suppression",
}
# Where the action came from (the door: `tocsin.core.acting`): kept for the details, not the one-line summary.
DOOR = ("via", "os_user", "as", "slack_user")
# A refusal's details, named for people: the policy's action and who may take it.
REFUSAL_NAMES = {"action": "policy", "rule": "who may"}
LEADS = {
    "draft.created": "{draft} {template} drafted",
    "draft.submitted": "{draft} revision {revision} sent to legal for review",
    "draft.edited": "{draft} edited: now revision {revision}",
    "draft.approved": "{draft} revision {revision} approved (sha256 {sha256})",
    "draft.rejected": "{draft} revision {revision} rejected: {comment}",
    "draft.sent": "{draft} revision {revision} sent",
    "obligation.submitted": "{event} submitted",
    "obligation.added": "Obligation {rule} to {recipient}",
    "incident.status_changed": "Status {from} → {to}",
    "role.assigned": "{person} is {role}",
    "escalation.started": "E-{escalation} paged {role}: {subject}",
    "escalation.acknowledged": "E-{escalation} acknowledged",
    "notice.wave_started": "Wave {wave} started: drafts {drafts} through {channel}",
    "notice.wave_finished": (
        "Wave {wave} finished: {sent} sent, {suppressed} suppressed, {invalid} invalid, {failed} failed"
    ),
}


@dataclass(frozen=True)
class EventText:
    summary: str  # one line, at most SUMMARY_CHARS characters (an ellipsis when cut)
    full: str  # the whole summary, uncut (for a title)
    pairs: list[tuple[str, str]]  # every detail, for a <details>
    tone: str  # decisive | alarming | "" (a CSS class; the action's name is always shown too)

    @property
    def cut(self) -> bool:
        return self.summary != self.full


def _instant(text: str, display_zone: str) -> str:
    try:
        moment = parse_instant(text)
    except (TypeError, ValueError):
        return text
    return moment.astimezone(zone(display_zone)).strftime("%Y-%m-%d %H:%M:%S %Z")


def value_text(value: Any, display_zone: str = "UTC") -> str:
    """A payload value as text: hashes shortened, instants local, lists joined, maps as `key value, …`."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        text = ", ".join(f"{k} {value_text(v, display_zone)}" for k, v in value.items())
    elif isinstance(value, list | tuple):
        text = ", ".join(value_text(v, display_zone) for v in value)
    elif isinstance(value, int | float):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)  # no separator in ids and revisions
    else:
        text = str(value)
    text = HASH.sub(lambda m: m.group(1), text)
    return INSTANT.sub(lambda m: _instant(m.group(0), display_zone), text)


def _kept(payload: dict[str, Any]) -> dict[str, Any]:
    """What `serialize.event_summary` shows: no facts document, no empty values."""
    return {k: v for k, v in payload.items() if v not in (None, "", [], {}) and k != "facts"}


def _ordered(details: dict[str, Any]) -> list[str]:
    return [k for k in FIRST if k in details] + [k for k in details if k not in FIRST]


def _lead(action: str, values: dict[str, str]) -> str | None:
    template = LEADS.get(action)
    if template is None:
        return None
    names = re.findall(r"{(\w+)}", template)
    if any(name not in values for name in names):
        return None
    return template.format(**values)


def _cut(text: str, limit: int = SUMMARY_CHARS) -> str:
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    return (head[:space] if space > limit // 2 else head).rstrip(" ,;:·") + "…"


def is_refusal(action: str) -> bool:
    """A refused attempt (`incident.status_refused`, `draft.approval_refused`, ...; Slack's `slack.refused`)."""
    return action.endswith(REFUSED) or action == "slack.refused"


def _refusal_lead(action: str, payload: dict[str, Any], values: dict[str, str]) -> str:
    """`D-3: approve refused: <reason>`, `status change refused: <reason>`: what, then why."""
    attempted = str(payload.get("action") or action.removesuffix(REFUSED))
    verb = values.get("attempted") or ATTEMPTS.get(attempted, attempted)
    about = values.get("draft") or values.get("person")
    if about is None and "escalation" in values:
        about = f"E-{values['escalation']}"
    reason = values.get("reason") or "refused by the policy"
    return f"{about}: {verb} refused: {reason}" if about else f"{verb[:1].upper()}{verb[1:]} refused: {reason}"


def describe(action: str, payload: dict[str, Any], display_zone: str = "UTC") -> EventText:
    details = _kept(payload)
    values = {k: value_text(v, display_zone) for k, v in details.items()}
    if "event" in values:  # a clock event: `submitted:RULE` is the submission of RULE
        values["event"] = values["event"].removeprefix("submitted:")
    refused = is_refusal(action)
    order = _ordered(details)
    names = dict(REFUSAL_NAMES) if refused else {}
    if refused:  # the reason first, then what was attempted and who may (the policy's rule, not an obligation's)
        order = [k for k in ("reason", "action", "rule") if k in details] + [
            k for k in order if k not in ("reason", "action", "rule")
        ]
    pairs = [(names.get(k, k.replace("_", " ")), values[k]) for k in order]
    lead = _refusal_lead(action, payload, values) if refused else _lead(action, values)
    rest = " · ".join(f"{name}: {values[k]}" for k, (name, _) in zip(order, pairs, strict=True) if k not in DOOR)
    if lead is not None:
        extra = [f"note: {values['note']}"] if "note" in values and "{note}" not in LEADS.get(action, "") else []
        full = " · ".join([lead, *extra])
    else:
        full = rest or " · ".join(f"{name}: {value}" for name, value in pairs)
    tone = "decisive" if action in DECISIVE else "alarming" if refused or action in ALARMING else ""
    return EventText(summary=_cut(full), full=full, pairs=pairs, tone=tone)
