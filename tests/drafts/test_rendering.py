"""Rendering is pure: complete inputs in, exact parts and their hash out. Missing inputs are all named."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from tocsin.templates.context import incident_variables
from tocsin.templates.loader import load_template
from tocsin.templates.problems import MissingInputs, TemplateInvalid
from tocsin.templates.render import choose_locale, content_sha256, prepare_variables, render

from tests.drafts.scenario import CUSTOMER_INPUTS, REGULATOR_INPUTS
from tocsin.core.errors import InvalidInput


@dataclass
class Person:
    handle: str
    name: str | None = None
    email: str | None = None


@dataclass
class Incident:
    id: int = 7
    title: str = "Customer DB exposed"
    severity: str = "SEV1"
    status: str = "investigating"
    aware_at: datetime = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    timezone: str = "Europe/Paris"
    facts: dict[str, Any] | None = None


FACTS = {
    "entity": {"name": "Boutique Lumière SAS"},
    "facts": {"data_subjects": {"FR": 41200, "DE": 5300, "BE": 870, "GB": 2100}},
}


def derived(roles: list[tuple[str, Person]] | None = None) -> dict[str, Any]:
    roles = roles if roles is not None else [("dpo", Person("claire", "Claire Martin", "dpo@example.org"))]
    variables, _ = incident_variables(Incident(facts=FACTS), roles, now=datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    return variables


def prepared(template: str, inputs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    loaded = load_template(template)
    merged = {k: v for k, v in derived().items() if k in loaded.manifest.variables} | inputs
    return loaded, prepare_variables(loaded.manifest, merged)


def test_context_comes_from_facts_and_roles() -> None:
    variables = derived([("legal", Person("lena", None, "lena@example.org")), ("commander", Person("alice"))])
    assert variables["organisation"] == "Boutique Lumière SAS"
    assert variables["approx_data_subjects"] == 49470
    assert variables["affected_countries"] == ["BE", "DE", "FR", "GB"]
    assert variables["aware_at"] == "2026-11-20 10:00 CET"
    assert variables["hours_since_aware"] == 24
    assert (variables["contact_name"], variables["contact_role"]) == ("lena", "legal")  # no DPO: legal
    assert variables["commander"] == "alice"
    assert derived([("dpo", Person("claire"))]).get("contact_email") is None  # a contact needs an email


@pytest.mark.parametrize("locale", ["en", "de", "fr"])
def test_regulator_notice_carries_every_art_33_3_item_in_each_locale(locale: str) -> None:
    loaded, variables = prepared("regulator_notice", REGULATOR_INPUTS)
    rendered = render(loaded, locale, variables)
    for value in (
        "Boutique Lumière SAS",
        REGULATOR_INPUTS["nature_of_breach"],
        "customers",
        "Claire Martin",
        "dpo@example.org",
        REGULATOR_INPUTS["likely_consequences"],
        REGULATOR_INPUTS["measures_taken"],
    ):
        assert value in rendered.text and value in rendered.html
    grouped = {"en": "49,470", "de": "49.470", "fr": "49\u202f470"}[locale]
    assert grouped in rendered.text
    assert {"en": "Art. 33", "de": "Art. 33", "fr": "art. 33"}[locale] in rendered.subject
    assert rendered.sha256 == content_sha256(
        "regulator_notice", "1.0.0", rendered.subject, rendered.text, rendered.html
    )


@pytest.mark.parametrize(("locale", "greeting"), [("en", "Dear customer"), ("de", "Sehr geehrte"), ("fr", "Chère")])
def test_customer_notice_renders_in_each_locale(locale: str, greeting: str) -> None:
    loaded, variables = prepared("customer_notice", CUSTOMER_INPUTS | {"contact_name": "Claire Martin"})
    rendered = render(loaded, locale, variables)
    assert rendered.text.startswith(greeting)
    assert CUSTOMER_INPUTS["what_you_can_do"] in rendered.text
    assert f'lang="{locale}"' in rendered.html


def test_html_is_autoescaped_and_text_is_kept_as_written() -> None:
    hostile = 'Attack <script>alert("x")</script> & more'
    loaded, variables = prepared("customer_notice", CUSTOMER_INPUTS | {"nature_of_breach": hostile})
    rendered = render(loaded, "en", variables)
    assert hostile in rendered.text
    assert "<script>" not in rendered.html
    assert "Attack &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more" in rendered.html


def test_missing_inputs_are_listed_all_at_once() -> None:
    loaded = load_template("regulator_notice")
    given = {k: v for k, v in derived().items() if k in loaded.manifest.variables}
    with pytest.raises(MissingInputs) as missing:
        prepare_variables(loaded.manifest, given | {"measures_taken": "   "})
    assert [m.name for m in missing.value.missing] == [
        "nature_of_breach",
        "categories_of_data_subjects",
        "categories_of_data",
        "approx_records",
        "likely_consequences",
        "measures_taken",
    ]
    assert "regulator_notice needs 6 more input(s)" in str(missing.value)


def test_unknown_inputs_and_wrong_kinds_are_refused() -> None:
    loaded = load_template("regulator_notice")
    with pytest.raises(InvalidInput, match=r"unknown variable.*measures_takne"):
        prepare_variables(loaded.manifest, {"measures_takne": "x"})
    with pytest.raises(InvalidInput, match="must be text"):
        prepare_variables(loaded.manifest, {"measures_taken": ["a", "b"]})


def test_inputs_are_typed() -> None:
    _, variables = prepared(
        "regulator_notice", REGULATOR_INPUTS | {"approx_records": "112,000", "categories_of_data": "names; emails;"}
    )
    assert variables["approx_records"] == 112000
    assert variables["categories_of_data"] == ["names", "emails"]
    _, variables = prepared("regulator_notice", REGULATOR_INPUTS | {"approx_records": "about 100,000"})
    assert variables["approx_records"] == "about 100,000"  # an honest estimate is shown as written


def test_the_hash_covers_every_part_the_template_and_its_version() -> None:
    base = content_sha256("t", "1.0.0", "s", "text", "html")
    assert (
        len(
            {
                base,
                content_sha256("t", "1.0.1", "s", "text", "html"),
                content_sha256("u", "1.0.0", "s", "text", "html"),
                content_sha256("t", "1.0.0", "s ", "text", "html"),
                content_sha256("t", "1.0.0", "s", "text", "html\n"),
                content_sha256("t", "1.0.0", "stext", "", "html"),
            }
        )
        == 6
    )
    loaded, variables = prepared("customer_notice", CUSTOMER_INPUTS | {"contact_name": "Claire"})
    assert render(loaded, "en", variables) == render(loaded, "en", variables)  # deterministic


def test_a_blank_required_section_is_refused_at_render() -> None:
    loaded, variables = prepared("customer_notice", CUSTOMER_INPUTS | {"contact_name": "Claire"})
    with pytest.raises(TemplateInvalid, match="required section 'measures'"):
        render(loaded, "en", variables | {"measures_taken": ""})


def test_locale_is_the_recipients_then_the_incidents_then_the_templates() -> None:
    offered = ["en", "de", "fr"]
    assert choose_locale(offered, recipient="de-AT", incident="fr") == ("de", "the recipient's locale")
    assert choose_locale(offered, recipient="it", incident="fr") == ("fr", "the incident's default locale")
    assert choose_locale(offered, recipient=None, incident="fr") == ("fr", "the incident's default locale")
    assert choose_locale(["en"], incident="fr")[0] == "en"
    assert choose_locale(offered, requested="de", recipient="fr") == ("de", "requested")
    with pytest.raises(InvalidInput, match="no locale 'it'; it offers: en, de, fr"):
        choose_locale(offered, requested="it")
