"""Files uploaded for a launch through `POST /api/uploads`: who uploaded which upload id, so each person's live,
unused uploads can be capped. The file itself lives under $TOCSIN_HOME/uploads/<upload_id>/ (see
`tocsin.flows.launch_files`); an upload is used once a playbook run names its file, and gone once `tocsin purge`
removed it."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from tocsin.db.types import UTCDateTime


class Upload(SQLModel, table=True):
    __tablename__: ClassVar[str] = "upload"  # type: ignore[misc]

    id: int | None = Field(default=None, primary_key=True)
    upload_id: str = Field(sa_type=String(80), unique=True)  # the folder's name, `upload:<upload_id>` in a launch
    kind: str = Field(sa_type=String(16))  # FileKind: recipients | mentions
    uploaded_by: str = Field(sa_type=String(64), index=True)  # the person's handle
    created_at: datetime = Field(sa_type=UTCDateTime)
