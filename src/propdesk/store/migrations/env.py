"""Alembic environment for propdesk, shipped inside the package (no alembic.ini needed).

:mod:`propdesk.store.migrate` builds the Alembic config in code and passes an open connection in
``config.attributes["connection"]``; its transaction is committed by the caller. Run without a
connection (e.g. ``alembic`` pointed at this directory with ``sqlalchemy.url`` set), the
environment makes its own engine through :func:`create_engine_for`, so SQLite migrations also
run under BEGIN IMMEDIATE with foreign keys on.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from propdesk.store.engine import create_engine_for
from propdesk.store.tables import metadata

config = context.config


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit the migration SQL for a DBA to review and run (``alembic upgrade --sql``)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection given and no sqlalchemy.url configured")
    engine = create_engine_for(url)
    try:
        with engine.begin() as own:
            _configure_and_run(own)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
