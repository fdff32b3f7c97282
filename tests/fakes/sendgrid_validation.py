"""SendGrid v3 Mail Send request validation, as the real API answers it (pure functions, no I/O).

Messages and fields follow SendGrid's documented 400 errors ("Mail Send errors" reference): every error
is `{"message": ..., "field": ..., "help": ...}` and all errors found are returned together.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"
_ADDRESS = r"[^@\s\"<>(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+"
_EMAIL = re.compile(f"{_ADDRESS}\\Z")  # \Z: "$" would also take a trailing newline
_EMAIL_LINES = re.compile(f"(?:{_ADDRESS}\n)*")  # addresses, one per line
_QUICK_KEYS = frozenset({"to", "custom_args", "substitutions"})

MAX_PERSONALIZATIONS = 1000
MAX_RECIPIENTS = 1000
MAX_SUBSTITUTION_BYTES = 10_000
MAX_CUSTOM_ARGS_BYTES = 10_000


def error(message: str, field: str | None, anchor: str = "") -> dict[str, Any]:
    return {"message": message, "field": field, "help": f"{HELP}#{anchor}" if anchor else None}


def is_valid_email(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 320 and _EMAIL.match(value) is not None


def _check_address(value: object, field: Callable[[], str], errors: list[dict[str, Any]], what: str) -> str | None:
    """The lower-cased address, or None after recording the error. `field` is built only on error."""
    email = value.get("email") if isinstance(value, dict) else None
    if email is None:
        errors.append(error(f"The {what} object must have an email parameter.", field(), "message.personalizations"))
        return None
    if not is_valid_email(email):
        errors.append(error("Does not contain a valid address.", f"{field()}.email", "message.personalizations"))
        return None
    name = value.get("name")  # type: ignore[union-attr]
    if name is not None and not isinstance(name, str):
        errors.append(error("The name must be a string.", f"{field()}.name"))
    return email.lower()  # type: ignore[no-any-return]


def _string_map_bytes(value: object, field: str, errors: list[dict[str, Any]], limit: int = 1 << 30) -> int:
    """Size in bytes of a string -> string map (exact only when it could exceed `limit`)."""
    if not isinstance(value, dict):
        errors.append(error(f"Invalid type. Expected: object, given: {type(value).__name__}.", field))
        return 0
    try:  # every value a string (the rule): counted in C, no loop
        joined = "".join(value) + "".join(value.values())
    except TypeError:  # a value that is not a string: reported below
        pass
    else:
        return len(joined) if len(joined) * 4 <= limit else len(joined.encode())
    chars = 0
    for key, item in value.items():
        if item.__class__ is not str:
            errors.append(error(f"Invalid type. Expected: string, given: {type(item).__name__}.", f"{field}.{key}"))
            continue
        chars += len(key) + len(item)
    if chars * 4 <= limit:  # UTF-8 is at most 4 bytes a character: cannot exceed the limit
        return chars
    return sum(len(k.encode()) + len(v.encode()) for k, v in value.items() if isinstance(v, str))


def validate_personalization(
    index: int, item: object, errors: list[dict[str, Any]], in_request: set[str] | None = None
) -> int:
    """Validate one personalization; returns how many recipients it has. `in_request`: addresses seen in
    earlier personalizations of the request (SendGrid refuses an address included more than once)."""
    # A bulk send is a thousand personalizations of one valid `to` each: settled here without building
    # anything; whatever this does not settle (every error included) goes through the full check below.
    if item.__class__ is dict:
        to = item.get("to")
        if to.__class__ is list and len(to) == 1 and "cc" not in item and "bcc" not in item:
            recipient = to[0]
            if recipient.__class__ is dict:
                email, name = recipient.get("email"), recipient.get("name")
                if (name is None or name.__class__ is str) and is_valid_email(email):
                    address = email.lower()  # type: ignore[union-attr]
                    if in_request is None or address not in in_request:
                        if in_request is not None:
                            in_request.add(address)
                        if len(item) > 1:
                            _validate_personalization_extras(index, item, errors)  # type: ignore[arg-type]
                        return 1
    return _validate_personalization_fully(index, item, errors, in_request)


def _validate_personalization_fully(
    index: int, item: object, errors: list[dict[str, Any]], in_request: set[str] | None
) -> int:
    if not isinstance(item, dict):
        errors.append(error("Each personalization must be an object.", f"personalizations.{index}"))
        return 0
    to = item.get("to")
    if not isinstance(to, list) or not to:
        errors.append(
            error(
                "The to array is required for all personalization objects, and must have at least one email "
                "object with a valid email address.",
                f"personalizations.{index}.to",
                "message.personalizations.to",
            )
        )
        return 0
    seen: set[str] = set()
    count = 0
    for kind in ("to", "cc", "bcc"):
        recipients = to if kind == "to" else item.get(kind) or ()
        for position, recipient in enumerate(recipients):
            count += 1
            email = _check_address(
                recipient, lambda k=kind, p=position: f"personalizations.{index}.{k}.{p}", errors, kind
            )
            if email is None:
                continue
            if email in seen:
                errors.append(
                    error(
                        "Each email address in the personalization block should be unique between to, cc, "
                        f"and bcc. We found the first duplicate instance of [{email}] in the "
                        f"personalizations.{index}.{kind} field.",
                        f"personalizations.{index}",
                        "message.recipient.duplicate",
                    )
                )
            seen.add(email)
            if in_request is not None:
                if email in in_request:
                    errors.append(
                        error(
                            "Each unique email address in the personalizations array should only be included "
                            f"once. You have included [{email}] more than once.",
                            f"personalizations.{index}.{kind}.{position}.email",
                            "message.recipient.duplicate",
                        )
                    )
                in_request.add(email)
    if len(item) > 1:
        _validate_personalization_extras(index, item, errors)
    return count


def _validate_personalization_extras(index: int, item: dict[str, Any], errors: list[dict[str, Any]]) -> None:
    base = f"personalizations.{index}"
    if "subject" in item and (not isinstance(item["subject"], str) or not item["subject"]):
        errors.append(error("The subject of a personalization must be a non-empty string.", f"{base}.subject"))
    if "substitutions" in item:
        size = _string_map_bytes(item["substitutions"], f"{base}.substitutions", errors, MAX_SUBSTITUTION_BYTES)
        if size > MAX_SUBSTITUTION_BYTES:
            errors.append(
                error(
                    f"Substitutions are limited to {MAX_SUBSTITUTION_BYTES} bytes per personalization block.",
                    f"{base}.substitutions",
                    "message.personalizations.substitutions",
                )
            )
    if "custom_args" in item:
        size = _string_map_bytes(item["custom_args"], f"{base}.custom_args", errors, MAX_CUSTOM_ARGS_BYTES)
        if size > MAX_CUSTOM_ARGS_BYTES:
            errors.append(
                error(
                    f"Custom arguments are limited to {MAX_CUSTOM_ARGS_BYTES} bytes per personalization block.",
                    f"{base}.custom_args",
                )
            )
    if "headers" in item:
        _string_map_bytes(item["headers"], f"{base}.headers", errors)


def _settled_at_once(personalizations: list[Any], in_request: set[str]) -> int | None:
    """A bulk request's personalizations, when each is one valid `to` with string-only substitutions and
    custom args well within their limits: the number of recipients, checked in passes over the whole list
    (one regular expression for every address). None as soon as anything differs, `in_request` untouched:
    the caller then checks each personalization and reports its errors."""
    if not personalizations:
        return None
    try:
        if not all(item.keys() <= _QUICK_KEYS for item in personalizations):
            return None
        to = [item["to"] for item in personalizations]
        if not all(recipients.__class__ is list and len(recipients) == 1 for recipients in to):
            return None
        people = [recipients[0] for recipients in to]
        emails = [person["email"] for person in people]
        if not all(person.get("name").__class__ in (str, type(None)) for person in people):
            return None
        joined = "\n".join(emails)
        if max(map(len, emails)) > 320 or _EMAIL_LINES.fullmatch(joined + "\n") is None:
            return None
        addresses = joined.lower().split("\n")
        if len(set(addresses)) != len(addresses) or not in_request.isdisjoint(addresses):
            return None
        for key, limit in (("substitutions", MAX_SUBSTITUTION_BYTES), ("custom_args", MAX_CUSTOM_ARGS_BYTES)):
            maps = [item[key] for item in personalizations if key in item]
            if not all(found.__class__ is dict for found in maps):
                return None
            sizes = [len("".join(found)) + len("".join(found.values())) for found in maps]
            if sizes and max(sizes) * 4 > limit:  # may be over once encoded: counted exactly by the full check
                return None
    except (AttributeError, KeyError, TypeError):  # not an object, no address, a value that is not a string
        return None
    in_request.update(addresses)
    return len(emails)


def validate_mail_send(payload: object, max_personalizations: int = MAX_PERSONALIZATIONS) -> list[dict[str, Any]]:
    """All the 400 errors SendGrid would report for this request body ([] when it would be accepted)."""
    errors: list[dict[str, Any]] = []
    if not isinstance(payload, dict):
        return [error("Bad Request", None)]
    personalizations = payload.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        errors.append(
            error(
                "The personalizations field is required and must have at least one personalization.",
                "personalizations",
                "message.personalizations",
            )
        )
        personalizations = []
    elif len(personalizations) > max_personalizations:
        errors.append(
            error(
                f"The personalization block is limited to {max_personalizations} personalizations per API "
                f"request. You have provided {len(personalizations)} personalizations. Please consider "
                "splitting this into multiple requests and resending your request.",
                "personalizations",
                "message.personalizations",
            )
        )
        personalizations = []
    in_request: set[str] = set()
    recipients = _settled_at_once(personalizations, in_request)
    if recipients is None:
        recipients = 0
        for index, item in enumerate(personalizations):
            recipients += validate_personalization(index, item, errors, in_request)
    if recipients > MAX_RECIPIENTS:
        errors.append(
            error(
                "There is a limit of 1000 total recipients (to + cc + bcc) per request.",
                "personalizations",
                "message.personalizations",
            )
        )
    sender = payload.get("from")
    if not isinstance(sender, dict) or not sender.get("email"):
        errors.append(
            error(
                "The from object must be provided for every email send. It is an object that requires an "
                'email parameter, but may also contain a name parameter.  e.g. {"email" : '
                '"example@example.com"}  or {"email" : "example@example.com", "name" : "Example Recipient"}.',
                "from.email",
                "message.from",
            )
        )
    elif not is_valid_email(sender["email"]):
        errors.append(error("The from email does not contain a valid address.", "from.email", "message.from"))
    if "reply_to" in payload:
        _check_address(payload["reply_to"], lambda: "reply_to", errors, "reply_to")
    has_template = bool(payload.get("template_id"))
    subject = payload.get("subject")
    every_personalization_has_subject = bool(personalizations) and all(
        isinstance(p, dict) and p.get("subject") for p in personalizations
    )
    if not has_template and not every_personalization_has_subject and (not isinstance(subject, str) or not subject):
        errors.append(
            error(
                "The subject is required. You can get around this requirement if you use a template with a "
                "subject defined or if every personalization has a subject defined.",
                "subject",
                "message.subject",
            )
        )
    _validate_content(payload.get("content"), has_template, errors)
    if "custom_args" in payload:
        _string_map_bytes(payload["custom_args"], "custom_args", errors)
    if "headers" in payload:
        _string_map_bytes(payload["headers"], "headers", errors)
    return errors


def _validate_content(content: object, has_template: bool, errors: list[dict[str, Any]]) -> None:
    if content is None or content == []:
        if not has_template:
            errors.append(
                error(
                    "Unless a valid template_id is provided, the content parameter is required. There must "
                    "be at least one defined content block. We typically suggest both text/plain and "
                    "text/html blocks are included, but only one block is required.",
                    "content",
                    "message.content",
                )
            )
        return
    if not isinstance(content, list):
        errors.append(error("Invalid type. Expected: array.", "content", "message.content"))
        return
    types = []
    for index, block in enumerate(content):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str) or not block["type"]:
            errors.append(error("The content type must be a string.", f"content.{index}.type"))
            continue
        types.append(block["type"])
        value = block.get("value")
        if not isinstance(value, str) or not value:
            errors.append(
                error(
                    "The content value must be a string at least one character in length.",
                    f"content.{index}.value",
                    "message.content.value",
                )
            )
    if ("text/plain" in types and types.index("text/plain") != 0) or (
        "text/html" in types and "text/plain" in types and types.index("text/html") < types.index("text/plain")
    ):
        errors.append(
            error(
                "If present, text/plain must be first, followed by text/html, followed by any other content.",
                "content",
                "message.content.type",
            )
        )
