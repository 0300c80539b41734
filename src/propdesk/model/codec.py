"""JSON-safe encoding of frozen dataclasses, driven by their type hints (decimals as strings).

Ledger event payloads and the stored rule state both round-trip through this one codec:
``from_json(T, to_json(x)) == x`` exactly, because decimals travel as their exact strings and
every other value is rebuilt from the field's declared type.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from types import MappingProxyType, UnionType
from typing import Any

_HINTS: dict[str, dict[str, Any]] = {}


def type_hints(cls: type[Any]) -> dict[str, Any]:
    """``typing.get_type_hints`` of ``cls``, cached (resolving string annotations is slow)."""
    key = f"{cls.__module__}.{cls.__qualname__}"
    if key not in _HINTS:
        _HINTS[key] = typing.get_type_hints(cls)
    return _HINTS[key]


def to_json(value: Any) -> Any:
    """``value`` as JSON-safe data: dataclasses as dicts, decimals as strings, tuples as lists."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    return value


def from_json(hint: Any, raw: Any) -> Any:
    """Rebuild a value of type ``hint`` from :func:`to_json` output."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, UnionType):
        if raw is None:
            return None
        (inner,) = [a for a in typing.get_args(hint) if a is not type(None)]
        return from_json(inner, raw)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return tuple(from_json(item, v) for v in raw)
    if origin is not None and issubclass(origin, Mapping):
        _, value_hint = typing.get_args(hint)
        return MappingProxyType({k: from_json(value_hint, v) for k, v in raw.items()})
    if hint is Decimal:
        return Decimal(raw)
    if hint is datetime:
        return datetime.fromisoformat(raw)
    if hint is date:
        return date.fromisoformat(raw)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(raw)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = type_hints(hint)
        fields = [f for f in dataclasses.fields(hint) if f.init and f.name in raw]
        return hint(**{f.name: from_json(hints[f.name], raw[f.name]) for f in fields})
    return raw
