"""`POST /api/uploads` as an action: who may upload a file for a launch, how many unused uploads each person may
keep, and the record of who uploaded which upload id (table `upload`).

Only someone who may launch or give a run its inputs somewhere may upload (policy `upload.create`: the
commander, legal or the DPO of an open incident, or an admin): a token alone does not let anyone put files on
the server. A person's live, unused uploads (still on disk, named by no playbook run) are capped at
`MAX_UNUSED_UPLOADS`; one more is refused (422, naming the limit) until a launch uses one or `tocsin purge`
removes them. The cap is asked twice: before the body is read (`check_may_upload`), and when the stored file is
recorded (`record_upload`), where the person's row is locked (PostgreSQL) and the new row written before counting
(SQLite), so two uploads at once cannot both take the last place.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Text, cast, exists, insert, select
from sqlmodel import Session, col
from tocsin.flows.launch_files import UPLOADS, FileKind
from tocsin.models import Person, PlaybookRun, Upload

from tocsin.core.acting import Actor, acting
from tocsin.core.clocks import utcnow
from tocsin.core.errors import InvalidInput
from tocsin.db.engine import session_scope
from tocsin.people.authorize import authorize
from tocsin.policy import Action

MAX_UNUSED_UPLOADS = 20  # per person: enough for every file input of a few launches, not for filling a disk


class TooManyUploads(InvalidInput):
    """The person already keeps `MAX_UNUSED_UPLOADS` uploads no launch has used."""


def unused_uploads(session: Session, handle: str, *, home: Path) -> list[str]:
    """The person's uploads that are still on disk and that no playbook run names (a run keeps the upload's path,
    which holds its id)."""
    named = select(PlaybookRun.id).where(cast(PlaybookRun.inputs, Text).contains(Upload.upload_id))
    candidates = session.execute(
        select(Upload.upload_id).where(Upload.uploaded_by == handle, ~exists(named)).order_by(col(Upload.id))
    ).scalars()
    return [upload_id for upload_id in candidates if (home / UPLOADS / upload_id).is_dir()]


def _refuse_over_cap(session: Session, handle: str, home: Path, *, allowed: int) -> None:
    if len(unused_uploads(session, handle, home=home)) > allowed:
        raise TooManyUploads(
            f"{handle} already has {MAX_UNUSED_UPLOADS} uploads that no launch has used (the limit per person): "
            "name one in a launch (`upload:<id>`), or wait for `tocsin purge` to remove them",
            where="file",
        )


def check_may_upload(actor: Actor, *, home: Path) -> None:
    """Before the body is read: Forbidden (403, logged) unless the policy lets the actor upload; TooManyUploads
    when they already keep the most unused uploads allowed."""
    with acting(actor), session_scope() as session:
        authorize(session, Action.upload, actor)
        _refuse_over_cap(session, actor.handle, home, allowed=MAX_UNUSED_UPLOADS - 1)


def record_upload(actor: Actor, upload_id: str, kind: FileKind, *, home: Path) -> None:
    """Record a stored, checked upload as the actor's; TooManyUploads (nothing recorded) when another upload of
    theirs took the last place meanwhile. The caller removes the stored file on any error."""
    with acting(actor), session_scope() as session:
        authorize(session, Action.upload, actor)
        session.execute(select(Person.id).where(Person.handle == actor.handle).with_for_update())  # PostgreSQL
        session.execute(
            insert(Upload).values(upload_id=upload_id, kind=kind.value, uploaded_by=actor.handle, created_at=utcnow())
        )
        _refuse_over_cap(session, actor.handle, home, allowed=MAX_UNUSED_UPLOADS)
