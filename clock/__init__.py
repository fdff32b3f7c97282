"""Tocsin's notification clock: which regulator, individual, media and attorney-general
obligations an incident triggers, and their exact deadlines.

Public API:
    compute_obligations(entity, facts, events, options, now=None) -> ObligationReport
        Validate an incident's stored inputs and compute the report (pure, no I/O beyond
        the cached rule table).
    evaluate(incident, rules=None, now=None) -> ObligationReport
        The same for an already validated `IncidentInput`.
    evaluate_many(incidents, rules=None, now=None) -> list[ObligationReport]
        Batch form (e.g. every open incident), with the cyclic GC paused meanwhile.
    parse_input(document, source=None) -> IncidentInput
        Validate an input document ({entity, facts, events, options, processor,
        regimes_in_scope_only}); raises tocsin.core.errors.InvalidInput naming the key.
    load_rules(path=None) -> RuleBook
        The validated, compiled rule table (clock/rules.yaml), cached per path.
Result types: ObligationReport (.to_dict() is the JSON output contract), Obligation,
NotTriggered, IncidentInput, RuleBook.
"""

from tocsin.clock.engine import compute_obligations, evaluate, evaluate_many
from tocsin.clock.inputs import IncidentInput, parse_input
from tocsin.clock.results import NotTriggered, Obligation, ObligationReport
from tocsin.clock.rules_loader import RuleBook, load_rules

__all__ = [
    "IncidentInput",
    "NotTriggered",
    "Obligation",
    "ObligationReport",
    "RuleBook",
    "compute_obligations",
    "evaluate",
    "evaluate_many",
    "load_rules",
    "parse_input",
]
