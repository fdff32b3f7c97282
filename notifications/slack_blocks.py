"""Pure builders of Slack Block Kit payloads for Tocsin's messages (no I/O, no Slack client).

Each builder returns a `BlockMessage`: the fallback `text` (shown in notifications and by clients that
cannot render blocks) and the `blocks`. Slack's documented limits are respected here so that a long summary
never makes Slack refuse a message: message text <= 40,000 characters (truncated with a notice), section
text <= 3,000, header <= 150, button text <= 75, button value <= 2,000, <= 10 section fields of <= 2,000,
<= 50 blocks per message.

Interactive buttons (handled by `slack_inbound`):

| action_id               | button      | value (JSON)                                  |
|-------------------------|-------------|-----------------------------------------------|
| `tocsin.ack`            | Acknowledge | {"incident_id": ..., "escalation_id": ...}    |
| `tocsin.draft.approve`  | Approve     | {"incident_id": ..., "draft_id": ..., "sha256": ...} |
| `tocsin.draft.reject`   | Reject      | {"incident_id": ..., "draft_id": ..., "sha256": ...} |

A draft's buttons carry the full SHA-256 of the content the card was made for (its first 12 characters are shown
on the card): an approval covers exactly that content, and is refused if the draft changed since.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ACK_ACTION = "tocsin.ack"
APPROVE_DRAFT_ACTION = "tocsin.draft.approve"
REJECT_DRAFT_ACTION = "tocsin.draft.reject"

MAX_TEXT = 40_000
MAX_SECTION_TEXT = 3_000
MAX_HEADER_TEXT = 150
MAX_FIELD_TEXT = 2_000
MAX_FIELDS = 10
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2_000
MAX_BLOCKS = 50

Block = dict[str, Any]


@dataclass(frozen=True, slots=True)
class BlockMessage:
    text: str
    blocks: tuple[Block, ...]


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with a notice of how much was cut."""
    if len(text) <= limit:
        return text
    longest_notice = f"\n… [truncated: {len(text):,} characters omitted]"
    if limit < 2 * len(longest_notice):
        return text[: limit - 1] + "…"
    kept = limit - len(longest_notice)
    return text[:kept] + f"\n… [truncated: {len(text) - kept:,} characters omitted]"


def fit_message_text(text: str) -> str:
    return truncate(text, MAX_TEXT)


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, MAX_HEADER_TEXT)}}


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text or " ", MAX_SECTION_TEXT)}}


def fields_section(fields: Mapping[str, str]) -> Block:
    items = list(fields.items())[:MAX_FIELDS]
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": truncate(f"*{k}*\n{v}", MAX_FIELD_TEXT)} for k, v in items],
    }


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, MAX_SECTION_TEXT)}]}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: Mapping[str, str], style: str | None = None) -> Block:
    encoded = json.dumps(dict(value), separators=(",", ":"), sort_keys=True)
    if len(encoded) > MAX_BUTTON_VALUE:
        raise ValueError(f"button value for {action_id} is {len(encoded)} characters; Slack allows 2,000")
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": truncate(text, MAX_BUTTON_TEXT)},
        "action_id": action_id,
        "value": encoded,
    }
    if style:
        element["style"] = style
    return element


def decode_button_value(value: str | None) -> dict[str, str]:
    """The ids a Tocsin button carries (inverse of `button`); {} for a value that is not Tocsin's JSON."""
    if not value:
        return {}
    try:
        decoded = json.loads(value)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in decoded.items()} if isinstance(decoded, dict) else {}


def cap_blocks(blocks: Sequence[Block]) -> tuple[Block, ...]:
    """At most 50 blocks: beyond that, keep the first 49 and say how many were left out."""
    if len(blocks) <= MAX_BLOCKS:
        return tuple(blocks)
    omitted = len(blocks) - (MAX_BLOCKS - 1)
    return (*blocks[: MAX_BLOCKS - 1], context(f"… {omitted} more blocks omitted (Slack shows at most 50)."))


def _when(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    # Slack renders <!date^epoch^...|fallback> in each reader's own time zone.
    return f"<!date^{int(utc.timestamp())}^{{date_short_pretty}} {{time}}|{utc:%Y-%m-%d %H:%M} UTC>"


def incident_brief(
    *,
    incident_id: str,
    title: str,
    severity: str,
    status: str,
    summary: str,
    declared_at: datetime,
    commander: str | None = None,
    facts: Mapping[str, str] | None = None,
) -> BlockMessage:
    fields = {"Severity": severity, "Status": status, "Declared": _when(declared_at)}
    if commander:
        fields["Commander"] = commander
    fields.update(facts or {})
    blocks = [
        header(f"{severity} · {title}"),
        fields_section(fields),
        section(summary),
        context(f"Incident `{incident_id}` · managed by Tocsin"),
    ]
    text = fit_message_text(f"[{severity}] Incident {incident_id} declared: {title}\n{summary}")
    return BlockMessage(text=text, blocks=cap_blocks(blocks))


def status_update(*, incident_id: str, status: str, update: str, author: str | None, at: datetime) -> BlockMessage:
    by = f" by {author}" if author else ""
    blocks = [
        section(f"*Status: {status}*\n{update}"),
        context(f"Incident `{incident_id}` · {_when(at)}{by}"),
    ]
    return BlockMessage(
        text=fit_message_text(f"Incident {incident_id} – {status}: {update}"), blocks=cap_blocks(blocks)
    )


def escalation(
    *,
    incident_id: str,
    escalation_id: str,
    title: str,
    severity: str,
    reason: str,
    step: int,
    due: datetime | None = None,
) -> BlockMessage:
    due_text = f"\nAcknowledge before {_when(due)}." if due else ""
    blocks = [
        header(f"Escalation: {severity} · {title}"),
        section(f"{reason}{due_text}"),
        {
            "type": "actions",
            "block_id": f"tocsin.escalation.{escalation_id}"[:255],
            "elements": [
                button(
                    "Acknowledge",
                    ACK_ACTION,
                    {"incident_id": incident_id, "escalation_id": escalation_id},
                    style="primary",
                )
            ],
        },
        context(f"Incident `{incident_id}` · escalation step {step}"),
    ]
    text = fit_message_text(f"Escalation (step {step}) for {severity} incident {incident_id}: {title}. {reason}")
    return BlockMessage(text=text, blocks=cap_blocks(blocks))


def draft_approval(
    *,
    incident_id: str,
    draft_id: str,
    audience: str,
    title: str,
    excerpt: str,
    sha256: str,
    revision: int | None = None,
    requested_by: str | None = None,
    review_url: str | None = None,
) -> BlockMessage:
    """Legal's review card: the draft's excerpt and Approve / Reject buttons bound to the content's `sha256` (the
    full hash, in each button's value; its first 12 characters on the card)."""
    ids = {"incident_id": incident_id, "draft_id": draft_id, "sha256": sha256}
    asker = f" · requested by {requested_by}" if requested_by else ""
    content = f"`{sha256[:12]}`" + (f" (revision {revision})" if revision is not None else "")
    read = f"<{review_url}|Read it whole in the console> before deciding." if review_url else ""
    blocks = [
        header(f"Approval needed: {title}"),
        fields_section({"Audience": audience, "Draft": f"`{draft_id}`", "Content sha256": content}),
        section(excerpt),
        {
            "type": "actions",
            "block_id": f"tocsin.draft.{draft_id}.{sha256[:12]}"[:255],
            "elements": [
                button(f"Approve {sha256[:12]}", APPROVE_DRAFT_ACTION, ids, style="primary"),
                button("Reject", REJECT_DRAFT_ACTION, ids, style="danger"),
            ],
        },
        context(
            f"Incident `{incident_id}`{asker} · Approve covers exactly the content with sha256 `{sha256[:12]}`; "
            f"if the draft changes, this card is out of date. {read}".strip()
        ),
    ]
    text = fit_message_text(
        f"Approval needed for draft {draft_id} ({audience}, sha256 {sha256[:12]}) on incident {incident_id}: {title}"
    )
    return BlockMessage(text=text, blocks=cap_blocks(blocks))
