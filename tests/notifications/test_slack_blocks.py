from __future__ import annotations

from datetime import UTC, datetime

from tocsin.notifications.slack_blocks import (
    ACK_ACTION,
    APPROVE_DRAFT_ACTION,
    MAX_BLOCKS,
    REJECT_DRAFT_ACTION,
    cap_blocks,
    decode_button_value,
    draft_approval,
    escalation,
    incident_brief,
    section,
    status_update,
    truncate,
)

from tests.fakes.slack_blocks_rules import block_problems

DECLARED = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SHA = "0123456789abcdef" * 4


def buttons(blocks: tuple[dict, ...]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_every_builder_produces_blocks_slack_accepts_even_with_huge_inputs() -> None:
    huge = "lorem ipsum " * 2_000  # 24,000 characters
    messages = [
        incident_brief(
            incident_id="INC-1",
            title=huge,
            severity="SEV1",
            status="investigating",
            summary=huge,
            declared_at=DECLARED,
            commander="@ada",
            facts={f"fact {n}": huge for n in range(20)},
        ),
        status_update(incident_id="INC-1", status="contained", update=huge, author="@bob", at=DECLARED),
        escalation(
            incident_id="INC-1",
            escalation_id="E-9",
            title=huge,
            severity="SEV1",
            reason=huge,
            step=3,
            due=DECLARED,
        ),
        draft_approval(
            incident_id="INC-1",
            draft_id="D-4",
            audience="regulator",
            title=huge,
            excerpt=huge,
            sha256=SHA,
            revision=3,
            requested_by="@bob",
            review_url="https://tocsin.example/drafts/4",
        ),
    ]
    for message in messages:
        assert block_problems(list(message.blocks)) == []
        assert len(message.text) <= 40_000


def omitted_count(text: str) -> int:
    return int(text.rsplit("truncated: ", 1)[1].split(" ")[0].replace(",", ""))


def test_truncation_says_how_much_was_cut() -> None:
    for size, limit in [(5_000, 3_000), (10_000, 3_000), (123_456, 40_000)]:
        cut = truncate("a" * size, limit)
        kept = cut.split("\n…")[0]
        assert len(cut) <= limit and len(cut) > limit - 10
        assert len(kept) + omitted_count(cut) == size
    assert truncate("short", 3_000) == "short"
    assert truncate("b" * 100, 75) == "b" * 74 + "…"  # too short a limit for a notice (button text)
    assert len(section("x" * 10_000)["text"]["text"]) <= 3_000


def test_buttons_carry_their_ids_and_documented_action_ids() -> None:
    page = escalation(incident_id="INC-1", escalation_id="E-9", title="t", severity="SEV2", reason="r", step=1)
    [ack] = buttons(page.blocks)
    assert ack["action_id"] == ACK_ACTION == "tocsin.ack"
    assert decode_button_value(ack["value"]) == {"incident_id": "INC-1", "escalation_id": "E-9"}
    approval = draft_approval(
        incident_id="INC-1", draft_id="D-4", audience="customers", title="t", excerpt="e", sha256=SHA, revision=2
    )
    approve, reject = buttons(approval.blocks)
    assert (approve["action_id"], reject["action_id"]) == (APPROVE_DRAFT_ACTION, REJECT_DRAFT_ACTION)
    assert (approve["style"], reject["style"]) == ("primary", "danger")
    ids = {"incident_id": "INC-1", "draft_id": "D-4", "sha256": SHA}  # the whole hash of the content on the card
    assert decode_button_value(approve["value"]) == ids and decode_button_value(reject["value"]) == ids
    assert len(approve["value"]) <= 2_000
    shown = " ".join(str(block) for block in approval.blocks)
    assert SHA[:12] in approve["text"]["text"] and SHA[:12] in shown and SHA not in shown.replace(approve["value"], "")
    assert "revision 2" in shown and SHA[:12] in approval.text  # the hash's start, in the card and its fallback
    assert decode_button_value("not json") == {}


def test_more_than_fifty_blocks_are_capped_with_a_notice() -> None:
    capped = cap_blocks([{"type": "divider"}] * 80)
    assert len(capped) == MAX_BLOCKS
    assert "31 more blocks omitted" in capped[-1]["elements"][0]["text"]
    assert block_problems(list(capped)) == []
    assert block_problems([{"type": "divider"}] * 51) == [
        "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
    ]
