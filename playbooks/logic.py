"""Pure evaluation of a playbook's conditions and relative times against an incident."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from tocsin.playbooks.schema import Condition, Timing


def holds(condition: Condition | None, document: Mapping[str, Any], owed_rules: set[str]) -> bool:
    """Whether `condition` is true for the facts document and the rules currently owed."""
    if condition is None:
        return True
    if condition.all is not None:
        return all(holds(c, document, owed_rules) for c in condition.all)
    if condition.any is not None:
        return any(holds(c, document, owed_rules) for c in condition.any)
    if condition.not_ is not None:
        return not holds(condition.not_, document, owed_rules)
    if condition.obligation is not None:
        return any(rule.startswith(condition.obligation) for rule in owed_rules)
    section, key = ("facts", condition.fact) if condition.fact is not None else ("entity", condition.entity)
    value = (document.get(section) or {}).get(key)
    if condition.equals is not None:
        return value == condition.equals
    if condition.gt is not None or condition.gte is not None:
        total = sum(value.values()) if isinstance(value, Mapping) else value
        if not isinstance(total, int | float) or isinstance(total, bool):
            return False
        return total > condition.gt if condition.gt is not None else total >= (condition.gte or 0)
    if condition.includes_any is not None:
        keys = set(value) if isinstance(value, Mapping | list) else set()
        return bool(keys & set(condition.includes_any))
    return bool(value)


def resolve(
    timing: Timing, *, aware_at: datetime, declared_at: datetime, deadlines: Mapping[str, datetime | None]
) -> datetime | None:
    """The instant a timing names; None when it hangs on a deadline that is not fixed (yet)."""
    if timing.after == "awareness":
        base: datetime | None = aware_at
    elif timing.after == "declared":
        base = declared_at
    else:
        base = deadlines.get(timing.deadline or "")
    return base + timedelta(hours=timing.hours) if base is not None else None
