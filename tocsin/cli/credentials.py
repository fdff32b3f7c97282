"""Where the CLI's login to a `tocsin serve` is kept, and whether the CLI is a client of a server at all.

Client mode is on when TOCSIN_SERVER and TOCSIN_TOKEN are both set (scripts, CI), else when `tocsin login` stored
a login: `TOCSIN_LOGIN_FILE`, by default `$XDG_CONFIG_HOME/tocsin/login.json` (`~/.config/tocsin/login.json`).
The file holds {url, handle, token, token_id} and is readable by its owner only (0600, in a 0700 folder):
the token acts as you on the server until it is revoked (`tocsin logout`).

Kept free of heavy imports: every command asks this first.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tocsin.core.errors import InvalidInput

SERVER_ENV = "TOCSIN_SERVER"
TOKEN_ENV = "TOCSIN_TOKEN"
FILE_ENV = "TOCSIN_LOGIN_FILE"


@dataclass(frozen=True)
class Login:
    url: str  # the server's base URL, without a trailing slash
    token: str
    handle: str | None = None  # who the token acts as (None: not known yet, from the environment)
    token_id: int | None = None  # lets `tocsin logout` revoke it on the server
    from_env: bool = False  # TOCSIN_SERVER + TOCSIN_TOKEN, not the login file

    @property
    def source(self) -> str:
        return f"{SERVER_ENV} and {TOKEN_ENV}" if self.from_env else str(login_file())


def login_file() -> Path:
    explicit = os.environ.get(FILE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home).expanduser() / "tocsin" / "login.json"


def normalise_url(url: str) -> str:
    """`https://tocsin.example.org/` → `https://tocsin.example.org`; anything but http(s) is refused."""
    text = url.strip().rstrip("/")
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest or any(c.isspace() for c in rest):
        raise InvalidInput(f"{url!r} is not a server URL (write it as https://tocsin.example.org)")
    return f"{scheme.lower()}://{rest}"


def current_login() -> Login | None:
    """The server this CLI is a client of, or None for local mode (the embedded database)."""
    server, token = os.environ.get(SERVER_ENV, "").strip(), os.environ.get(TOKEN_ENV, "").strip()
    if server or token:
        if not (server and token):
            missing = TOKEN_ENV if server else SERVER_ENV
            raise InvalidInput(
                f"{SERVER_ENV} and {TOKEN_ENV} go together: {missing} is not set "
                "(set both to act through a server, or neither)"
            )
        return Login(normalise_url(server), token, from_env=True)
    return read_login()


def read_login() -> Login | None:
    path = login_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise InvalidInput(f"cannot read the login file: {error.strerror}", where=str(path)) from None
    try:
        data = json.loads(text)
        url, token = normalise_url(data["url"]), str(data["token"])
    except (ValueError, KeyError, TypeError, InvalidInput):
        raise InvalidInput(
            "not a Tocsin login file (log in again with `tocsin login URL`, or delete it)", where=str(path)
        ) from None
    _warn_if_exposed(path)
    token_id = data.get("token_id")
    return Login(url, token, handle=data.get("handle"), token_id=token_id if isinstance(token_id, int) else None)


def _warn_if_exposed(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        print(
            f"warning: {path} can be read by others (mode {stat.S_IMODE(mode):o}); its token acts as you: "
            f"chmod 600 {path}",
            file=sys.stderr,
        )


def save_login(login: Login) -> Path:
    """Write the login file, readable by its owner only, replacing any earlier one in one step."""
    path = login_file()
    folder = path.parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True)
    data: dict[str, Any] = {"url": login.url, "handle": login.handle, "token": login.token}
    if login.token_id is not None:
        data["token_id"] = login.token_id
    partial = folder / f".{path.name}.{os.getpid()}.tmp"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # whatever the umask, and even if the file was there
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def forget_login() -> bool:
    """Delete the login file; False if there was none."""
    try:
        login_file().unlink()
    except FileNotFoundError:
        return False
    return True
