"""Alembic environment: the engine comes from Tocsin (config.attributes) or from the settings."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import tocsin.models  # noqa: F401  (registers every table on SQLModel.metadata)

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    from tocsin.core.config import get_settings
    from tocsin.db.engine import engine_for

    engine = engine_for(get_settings().resolved_database_url)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        # APScheduler's job table is created by the migrations but not defined by a model.
        include_name=lambda name, kind, _parent: not (kind == "table" and name == "apscheduler_jobs"),
    )
    with context.begin_transaction():
        context.run_migrations()
