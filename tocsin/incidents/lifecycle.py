"""The incident status lifecycle (pure): which transitions are legal.

declared → investigating → contained → notifying → monitoring → closed, with the detours that
real incidents take: a false alarm closes early, containment can fail (back to investigating),
an incident that owes no notice skips `notifying`, and monitoring can reopen the investigation.
"""

from __future__ import annotations

from tocsin.core.errors import InvalidInput
from tocsin.models.enums import IncidentStatus as S

TRANSITIONS: dict[S, tuple[S, ...]] = {
    S.declared: (S.investigating, S.closed),
    S.investigating: (S.contained, S.closed),
    S.contained: (S.notifying, S.monitoring, S.investigating),
    S.notifying: (S.monitoring,),
    S.monitoring: (S.closed, S.investigating),
    S.closed: (),
}


def parse_status(value: str) -> S:
    try:
        return S(value.strip().lower())
    except ValueError:
        allowed = ", ".join(s.value for s in S)
        raise InvalidInput(f"unknown status {value!r}; one of: {allowed}") from None


def check_transition(current: str, new: S) -> None:
    current_status = S(current)
    if new == current_status:
        raise InvalidInput(f"the incident is already {new.value}")
    allowed = TRANSITIONS[current_status]
    if new not in allowed:
        options = ", ".join(s.value for s in allowed) or "none: a closed incident stays closed"
        raise InvalidInput(
            f"cannot go from {current_status.value} to {new.value}; from {current_status.value} the next "
            f"status can be: {options}"
        )
