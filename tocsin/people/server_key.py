"""The server's own secret: `web_secret_key`, else a key generated once into $TOCSIN_HOME/web-secret (0600).

It signs the console's cookies and keys the HMACs that stand in for handles and addresses in the log-in
throttle's table.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from tocsin.core.config import Settings

SECRET_FILE = "web-secret"


def server_secret(settings: Settings) -> str:
    if settings.web_secret_key is not None and settings.web_secret_key.get_secret_value():
        return settings.web_secret_key.get_secret_value()
    path: Path = settings.home / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a private name, then linked in place: a concurrent reader never sees a half-written
        # (or empty) key, and the first of two concurrent writers wins.
        draft = path.with_name(f".{SECRET_FILE}.{secrets.token_hex(8)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:  # another process or thread wrote it first
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def keyed_hash(settings: Settings, purpose: str, *parts: str) -> str:
    """HMAC-SHA256 (hex) of `parts` under a key derived from the server secret for `purpose` alone."""
    key = hmac.new(server_secret(settings).encode(), purpose.encode(), hashlib.sha256).digest()
    return hmac.new(key, "\0".join(parts).encode(), hashlib.sha256).hexdigest()
