"""Hiding the secrets a URL can carry (`scheme://user:password@host`) wherever a URL is shown or logged:
`tocsin config`, start-up lines, error messages that quote a database or host URL."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
# scheme://userinfo@ inside any text (an error message quoting a URL): up to the last "@" before the path,
# so an unencoded "@" or ":" in the password is masked too.
_USERINFO_IN_TEXT = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^\s'\"<>/?#]+)@")


def _masked_userinfo(userinfo: str) -> str:
    user, colon, _password = userinfo.partition(":")
    return f"{user}:{MASK}" if colon else MASK if _looks_like_token(user) else user


def _looks_like_token(user: str) -> bool:
    """A userinfo without ":" is a user name, except a long opaque one (an API key passed as the user)."""
    return len(user) >= 20


def redact_url(url: str) -> str:
    """`url` with the password (or a token given as the user name) replaced by ***; other URLs unchanged."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{_masked_userinfo(userinfo)}@{host}"))


def redact_text(text: str) -> str:
    """Every `scheme://user:password@` in free text (an error message) with the password masked."""
    return _USERINFO_IN_TEXT.sub(lambda m: f"{m['scheme']}{_masked_userinfo(m['userinfo'])}@", text)
