"""The role policy is data: README's table is printed from it, and every action has exactly one rule."""

from __future__ import annotations

from pathlib import Path

from tocsin.policy import POLICY, Action, table_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_shows_the_policy_table_exactly() -> None:
    assert table_markdown() in README.read_text(encoding="utf-8"), "README's policy table differs from tocsin.policy"


def test_every_action_has_one_rule_and_someone_may_take_it() -> None:
    assert set(POLICY) == set(Action)
    for action, rule in POLICY.items():
        assert rule.action is action
        assert rule.anyone or rule.roles or rule.admin, f"{action.value}: nobody may take it"


def test_nobody_but_legal_decides_on_drafts() -> None:
    for action in (Action.approve, Action.reject):
        rule = POLICY[action]
        assert {r.value for r in rule.roles} == {"legal"} and not rule.admin and not rule.anyone
