"""Jurisdiction codes in an input document, checked against ISO 3166-1 (pycountry's list) and the rule table's
US states, so that a code that is no jurisdiction (FX for FR, UK for GB, `Texas` for TX) is refused with a
suggestion instead of silently dropping the obligations it would have triggered.

Only codes that name nothing can be caught: a real code is taken as written. TZ is Tanzania, so TZ typed for TX
is accepted in `residents_affected` (an ISO country that is not a state code). Many codes are both a country
and a US state (CA Canada/California, DE Germany/Delaware, IN India/Indiana, GA Gabon/Georgia): `data_subjects`
reads them as countries, `residents_affected` as states (Canada there is `CA-country`). A lowercase `ca`,
refused in both, is told both readings and which field takes which.
"""

from __future__ import annotations

from collections.abc import Mapping

import pycountry

# Region codes the rule tables use besides ISO countries (facts-vocabulary.md): an EU/EEA-wide total in
# `data_subjects`, and Canada in `residents_affected` (where CA is California).
EU_TOTAL = "EU"
CANADA_IN_STATE_MAP = "CA-country"
# The facts (rules.yaml vocabulary) keyed by countries and by US states: named when a code belongs in the other.
COUNTRY_FIELD = "data_subjects"
STATE_FIELD = "residents_affected"

ISO_COUNTRIES: frozenset[str] = frozenset(country.alpha_2 for country in pycountry.countries)
# Codes people write for a country that ISO spells otherwise (the EU's own abbreviations, common habits).
_ALIASES = {"UK": "GB", "EL": "GR"}


def _historic_successor(code: str) -> str | None:
    """FX (France, Metropolitan, withdrawn 1997) -> FR: the current country named like the withdrawn code."""
    historic = pycountry.historic_countries.get(alpha_2=code)
    if historic is None:
        return None
    current = pycountry.countries.get(name=historic.name.split(",")[0].strip())
    return current.alpha_2 if current is not None else None


def _country_named(name: str) -> str | None:
    try:
        return pycountry.countries.lookup(name.strip()).alpha_2
    except LookupError:
        return None


def suggest_country(code: str) -> str | None:
    """The ISO alpha-2 code meant by `code`, when there is a clear one."""
    upper = code.strip().upper()
    if upper in ISO_COUNTRIES:
        return upper
    return _ALIASES.get(upper) or _historic_successor(upper) or _country_named(code)


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or getattr(country, "name", code)


def country_problem(
    code: object, *, extra: tuple[str, ...] = (), states: Mapping[str, str] | None = None
) -> str | None:
    """Why `code` is not an ISO 3166-1 alpha-2 country code (or one of `extra`), or None. With the rule table's
    `states`, a US state given here is pointed to the state field."""
    if isinstance(code, str) and (code in ISO_COUNTRIES or code in extra):
        return None
    hint = _country_hint(code, states or {}) if isinstance(code, str) else ""
    allowed = "an ISO 3166-1 alpha-2 country code such as FR, DE, GB" + "".join(f", or {code}" for code in extra)
    return f"{code!r} is not a country code{hint}; expected {allowed}"


def _country_hint(code: str, states: Mapping[str, str]) -> str:
    """` (did you mean DE?)`, naming the US state a code or name could also mean and where states go."""
    country, state = suggest_country(code), suggest_state(code, states)
    if state is None:
        return f" (did you mean {country}?)" if country else ""
    elsewhere = f"{states[state]}, the US state {state}, goes in {STATE_FIELD}"
    if country is None:
        return f" ({elsewhere})"
    return f" (did you mean {country}, {country_name(country)}? {COUNTRY_FIELD} takes countries; {elsewhere})"


def suggest_state(code: str, states: Mapping[str, str]) -> str | None:
    """The USPS state code meant by `code` (tx, US-TX, Texas), when there is a clear one."""
    upper = code.strip().upper().removeprefix("US-")
    if upper in states:
        return upper
    by_name = {name.upper(): state for state, name in states.items()}
    return by_name.get(code.strip().upper())


def state_key_problem(code: object, states: Mapping[str, str]) -> str | None:
    """Why `code` cannot key `residents_affected`: it must be a USPS state code (the rule table's `us_states`),
    an ISO country code that is not also a state code, or CA-country."""
    if isinstance(code, str) and (code in states or code in ISO_COUNTRIES or code == CANADA_IN_STATE_MAP):
        return None
    hint = _state_key_hint(code, states) if isinstance(code, str) else ""
    return (
        f"{code!r} is not a jurisdiction code{hint}; "
        "expected a USPS state code such as TX, CA (California), NY, "
        f"an ISO 3166-1 alpha-2 country code that is not a state code, or {CANADA_IN_STATE_MAP}"
    )


def _state_key_hint(code: str, states: Mapping[str, str]) -> str:
    """` (did you mean TX?)`; when `code` reads as a state and as a country (`ca`, `de`, Georgia), both readings
    and where each goes: a country whose code is also a state code can only be given in data_subjects."""
    state, country = suggest_state(code, states), suggest_country(code)
    readings: list[tuple[str, str]] = []  # (what to write, what it means)
    if state is not None:
        readings.append((state, f"{states[state]}, the US state"))
    note = ""
    if country == "CA":
        readings.append((CANADA_IN_STATE_MAP, "Canada"))
    elif country is not None and country in states:  # Germany is DE, which here is Delaware
        note = f"{country_name(country)}, the country {country}, goes in {COUNTRY_FIELD}"
        if state != country:
            note += f": here {country} is {states[country]}"
    elif country is not None:
        readings.append((country, f"{country_name(country)}, the country"))
    if len(readings) == 1 and not note:  # one clear reading: the code alone
        return f" (did you mean {readings[0][0]}?)"
    if not readings and not note:
        return ""
    asked = " or ".join(f"{written} ({meaning})" for written, meaning in readings)
    parts = [f"did you mean {asked}?" if asked else "", note]
    return f" ({' '.join(part for part in parts if part)})"
