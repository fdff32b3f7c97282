"""Imports every command module so that each registers its commands on the app."""

from tocsin.cli import (  # noqa: F401  (each module registers its commands)
    admin,
    approvals,
    clock,
    drafts,
    drill,
    escalation,
    incidents,
    login,
    notify,
    obligations,
    people,
    playbooks,
    sentiment,
    serve,
    suppress,
    templates,
    wave,
)
