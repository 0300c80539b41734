"""What every service needs, injected once by the entry point (API app, CLI, job, test)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from propdesk.model.ids import IdFactory, uuid_ids
from propdesk.services.clock import Clock, system_clock
from propdesk.settings import Settings


@dataclass(frozen=True)
class ServiceContext:
    engine: Engine
    settings: Settings = field(default_factory=Settings)
    clock: Clock = system_clock
    ids: IdFactory = uuid_ids
