"""Persistence: SQLAlchemy Core tables, Alembic migrations, the unit of work and repositories.

Nothing here runs at import time; build an engine with
:func:`propdesk.store.engine.create_engine_for`, migrate with :func:`propdesk.store.migrate.upgrade`,
and do every change inside a :class:`propdesk.store.uow.UnitOfWork`.
"""
