"""Slack's message limits as the Web API enforces them (pure functions used by the Slack fake).

Block errors come back as `invalid_blocks` with human-readable details in `response_metadata.messages`,
like `[ERROR] no more than 50 items allowed [json-pointer:/blocks]`.
"""

from __future__ import annotations

MAX_TEXT = 40_000
MAX_BLOCKS = 50
MAX_ATTACHMENTS = 100
_TEXT_LIMITS = {"section": 3000, "header": 150, "context": 3000}


def _too_long(limit: int, pointer: str) -> str:
    return f"[ERROR] must be less than {limit + 1} characters [json-pointer:{pointer}]"


def _text_of(obj: object) -> str | None:
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        return str(obj["text"])
    return None


def block_problems(blocks: object) -> list[str]:
    """Slack's `invalid_blocks` messages for these blocks ([] when Slack would accept them)."""
    if not isinstance(blocks, list):
        return ["[ERROR] expected array [json-pointer:/blocks]"]
    if len(blocks) > MAX_BLOCKS:
        return [f"[ERROR] no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]"]
    problems: list[str] = []
    for index, block in enumerate(blocks):
        pointer = f"/blocks/{index}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"[ERROR] missing required field: type [json-pointer:{pointer}]")
            continue
        kind = block["type"]
        block_id = block.get("block_id")
        if block_id is not None and (not isinstance(block_id, str) or len(block_id) > 255):
            problems.append(_too_long(255, f"{pointer}/block_id"))
        text = _text_of(block.get("text"))
        if kind in ("section", "header") and "text" in block:
            if text is None or not text:
                problems.append(f"[ERROR] must provide a string [json-pointer:{pointer}/text/text]")
            elif len(text) > _TEXT_LIMITS[kind]:
                problems.append(_too_long(_TEXT_LIMITS[kind], f"{pointer}/text/text"))
        if kind == "header" and text is None:
            problems.append(f"[ERROR] missing required field: text [json-pointer:{pointer}]")
        if kind == "section":
            fields = block.get("fields")
            if text is None and not fields:
                problems.append(f"[ERROR] must provide either text or fields [json-pointer:{pointer}]")
            if isinstance(fields, list):
                if len(fields) > 10:
                    problems.append(f"[ERROR] no more than 10 items allowed [json-pointer:{pointer}/fields]")
                for f_index, item in enumerate(fields):
                    value = _text_of(item)
                    if value is not None and len(value) > 2000:
                        problems.append(_too_long(2000, f"{pointer}/fields/{f_index}/text"))
        if kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements or len(elements) > 10:
                problems.append(f"[ERROR] must have 1 to 10 elements [json-pointer:{pointer}/elements]")
        if kind == "actions":
            problems.extend(_action_problems(block.get("elements"), pointer))
    return problems


def _action_problems(elements: object, pointer: str) -> list[str]:
    if not isinstance(elements, list) or not elements:
        return [f"[ERROR] must provide at least 1 element [json-pointer:{pointer}/elements]"]
    if len(elements) > 25:
        return [f"[ERROR] no more than 25 items allowed [json-pointer:{pointer}/elements]"]
    problems = []
    action_ids: set[str] = set()
    for e_index, element in enumerate(elements):
        e_pointer = f"{pointer}/elements/{e_index}"
        if not isinstance(element, dict):
            problems.append(f"[ERROR] expected object [json-pointer:{e_pointer}]")
            continue
        text = _text_of(element.get("text"))
        if element.get("type") == "button":
            if text is None:
                problems.append(f"[ERROR] missing required field: text [json-pointer:{e_pointer}]")
            elif len(text) > 75:
                problems.append(_too_long(75, f"{e_pointer}/text/text"))
            value = element.get("value")
            if isinstance(value, str) and len(value) > 2000:
                problems.append(_too_long(2000, f"{e_pointer}/value"))
            if element.get("style") not in (None, "primary", "danger"):
                problems.append(f"[ERROR] must be one of primary, danger [json-pointer:{e_pointer}/style]")
        action_id = element.get("action_id")
        if isinstance(action_id, str):
            if len(action_id) > 255:
                problems.append(_too_long(255, f"{e_pointer}/action_id"))
            if action_id in action_ids:
                problems.append(f"[ERROR] action_id must be unique in a block [json-pointer:{e_pointer}/action_id]")
            action_ids.add(action_id)
    return problems


def message_problem(text: object, blocks: object, attachments: object) -> tuple[str, list[str]] | None:
    """(error code, details) for a message Slack would refuse, or None."""
    has_blocks = isinstance(blocks, list) and len(blocks) > 0
    if (not isinstance(text, str) or not text) and not has_blocks and not attachments:
        return "no_text", []
    if isinstance(text, str) and len(text) > MAX_TEXT:
        return "msg_too_long", []
    if isinstance(attachments, list) and len(attachments) > MAX_ATTACHMENTS:
        return "too_many_attachments", []
    if blocks is not None:
        problems = block_problems(blocks)
        if problems:
            return "invalid_blocks", problems
    return None
