"""Typed identifiers and the injectable id factory.

Ids are strings on the wire and in storage (UUIDs by default) but distinct types in code, so an
order id can never be passed where an account id is expected. Ids come from an ``IdFactory`` so
that a replay or a failing test can reproduce the exact same ids.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from typing import NewType, Protocol

UserId = NewType("UserId", str)
AccountId = NewType("AccountId", str)
OrderId = NewType("OrderId", str)
FillId = NewType("FillId", str)
DecisionActionId = NewType("DecisionActionId", str)
EventId = NewType("EventId", str)


class IdFactory(Protocol):
    """Makes new unique ids."""

    def __call__(self) -> str: ...


def uuid_ids() -> str:
    """A random UUID4 string, the production id factory."""
    return str(uuid.uuid4())


def sequential_ids(prefix: str = "id") -> Callable[[], str]:
    """A deterministic id factory for replays and tests: ``prefix-1``, ``prefix-2``, …"""
    counter = itertools.count(1)
    return lambda: f"{prefix}-{next(counter)}"
