"""Composition root: settings in, a ready :class:`ServiceContext` out (engine, clock, ids)."""

from __future__ import annotations

from propdesk.services.context import ServiceContext
from propdesk.settings import Settings
from propdesk.store import migrate
from propdesk.store.engine import create_engine_for


def build_context(settings: Settings, *, upgrade: bool = True) -> ServiceContext:
    """Engine on ``settings.database_url``; with ``upgrade`` the schema is migrated to head first."""
    if upgrade:
        migrate.upgrade(settings.database_url)
    engine = create_engine_for(settings.database_url, echo=settings.database_echo)
    return ServiceContext(engine=engine, settings=settings)
