"""The files a playbook run opens (a notice wave's recipients list, a sentiment watch's mentions), and turning a
launch input into a file the server may open.

Only the local CLI (the operator, on the server) and Tocsin itself (drills, recurring runs) name a path. Every
remote door (API, console, Slack) names an upload the server issued: `upload:<id>`, the id being a folder under
$TOCSIN_HOME/uploads that holds one checked `recipients.*` or `mentions.*` file (stored by the console's launch
form and by `POST /api/uploads`). Anything else is refused naming the input, so `"recipients": "/etc/passwd"`
is never stored, let alone opened. The run keeps the resolved path, so the steps read it as before.
"""

from __future__ import annotations

import re
import secrets
import stat
from enum import StrEnum
from pathlib import Path
from typing import Any

from tocsin.playbooks.schema import Playbook

from tocsin.core.acting import Actor, Via
from tocsin.core.clocks import utcnow
from tocsin.core.errors import InvalidInput

UPLOADS = "uploads"
UPLOAD_PREFIX = "upload:"
# INC-<incident>-... from the console's launch form, UP-... from POST /api/uploads; 128 random bits either way.
_UPLOAD_ID = re.compile(r"(?:INC-(?P<incident>\d{1,12})|UP)-\d{8}T\d{6}Z-[0-9a-f]{32}")
PATH_DOORS = frozenset({Via.local, Via.system, Via.drill})  # on the server itself: a path is theirs to name


class FileKind(StrEnum):
    recipients = "recipients"
    mentions = "mentions"


def file_inputs(playbook: Playbook) -> dict[str, FileKind]:
    """Input name -> the kind of file the playbook's steps open from it."""
    found: dict[str, FileKind] = {}
    for step in playbook.steps:
        if step.type == "notice_wave":
            found[step.recipients_input] = FileKind.recipients  # type: ignore[attr-defined]
        elif step.type == "watch_sentiment":
            found.setdefault("mentions", FileKind.mentions)
    return found


def new_upload_folder(home: Path, *, incident_id: int | None = None) -> tuple[str, Path]:
    """A new private folder (0700) for one upload: its id and its path."""
    root = home / UPLOADS
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    root.chmod(0o700)
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    label = f"INC-{incident_id}" if incident_id is not None else "UP"
    upload_id = f"{label}-{stamp}-{secrets.token_hex(16)}"
    folder = root / upload_id
    folder.mkdir(mode=0o700)
    return upload_id, folder


def upload_file(home: Path, upload_id: str, kind: FileKind, *, incident_id: int, where: str) -> Path:
    """The stored file of an upload the server issued, of the kind the input needs; InvalidInput otherwise."""
    found = _UPLOAD_ID.fullmatch(upload_id)
    if found is None:
        raise InvalidInput(
            f"{upload_id[:60]!r} is not an upload id (upload a file first: POST /api/uploads)", where=where
        )
    if found.group("incident") is not None and int(found.group("incident")) != incident_id:
        raise InvalidInput(f"upload {upload_id} was made for INC-{found.group('incident')}", where=where)
    folder = home / UPLOADS / upload_id
    files = sorted(folder.glob(f"{kind.value}.*")) if folder.is_dir() else []
    if len(files) != 1 or not stat.S_ISREG(files[0].lstat().st_mode):  # lstat: a link is not an upload
        raise InvalidInput(
            f"no {kind.value} upload {upload_id} (expired, removed, or another kind of file)", where=where
        )
    return files[0]


def resolve_file_inputs(
    playbook: Playbook, inputs: dict[str, Any], *, actor: Actor, incident_id: int, home: Path
) -> dict[str, Any]:
    """`inputs` with every file input turned into the path of its upload. A remote door must name an upload
    (`upload:<id>`); the local CLI and Tocsin itself may also name a path on the server."""
    resolved = dict(inputs)
    for name, kind in file_inputs(playbook).items():
        value = inputs.get(name)
        if value is None:
            continue
        where = f"inputs.{name}"
        text = value.strip() if isinstance(value, str) else ""
        if text.startswith(UPLOAD_PREFIX):
            upload_id = text.removeprefix(UPLOAD_PREFIX).strip()
            resolved[name] = str(upload_file(home, upload_id, kind, incident_id=incident_id, where=where))
        elif actor.via not in PATH_DOORS:
            raise InvalidInput(
                f"a {kind.value} file is given as an upload: `upload:<id>` from POST /api/uploads "
                f"(a path on the server is not accepted through the {actor.via.value} door)",
                where=where,
            )
    return resolved
