"""The audit key: the secret the keyed chain and the checkpoints are signed with, kept outside the database.

`TOCSIN_AUDIT_KEY` (e.g. from a secret store), else $TOCSIN_HOME/audit-key. A process that signs (appends an
event, writes a checkpoint) generates that file once (mode 0600) if neither exists; verifying never does: a
key made up by `verify` would only make every event look foreign. Keys retired by a rotation stay verifiable
through `TOCSIN_AUDIT_RETIRED_KEYS`. Nothing else is trusted: not a key file that happens to sit beside a
database (anyone who can write that folder could plant one). A drill's database is verified by naming the
drill's folder (`tocsin audit verify --drill FOLDER`).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from tocsin.audit.chain import key_id_of
from tocsin.core.config import Settings

KEY_FILE = "audit-key"
KEY_SOURCES = "TOCSIN_AUDIT_KEY, or the file $TOCSIN_HOME/audit-key"


def key_file(settings: Settings) -> Path:
    return settings.home / KEY_FILE


def read_key_file(path: Path) -> bytes | None:
    if not path.is_file():
        return None
    return path.read_text().strip().encode() or None


def create_key_file(path: Path) -> bytes:
    """Write a new random key to `path` (0600) unless one is there already; the key in the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first
        pass
    else:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    key = read_key_file(path)
    if key is None:
        raise RuntimeError(f"{path}: the audit key file is empty")
    return key


def configured_key(settings: Settings) -> bytes | None:
    """The current key if this process has one (never creates it)."""
    if settings.audit_key is not None and settings.audit_key.get_secret_value():
        return settings.audit_key.get_secret_value().encode()
    return read_key_file(key_file(settings))


def audit_key(settings: Settings) -> bytes:
    """The key new events and checkpoints are signed with (generated into $TOCSIN_HOME/audit-key on first use)."""
    return configured_key(settings) or create_key_file(key_file(settings))


def verifying_keys(settings: Settings) -> dict[str, bytes]:
    """Key id -> key, for every key this process may verify with: the current key and the retired ones, all
    from configuration. Empty when no key is configured."""
    current = configured_key(settings)
    keys = [] if current is None else [current]
    keys += [k.get_secret_value().encode() for k in settings.audit_retired_keys if k.get_secret_value()]
    return {key_id_of(key): key for key in keys}
