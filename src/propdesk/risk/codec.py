"""JSON-safe round trip of a :class:`~propdesk.risk.state.RuleState` (decimals as strings).

The service stores the rule state as a projection next to the account's balances (intraday
trailing floors depend on marks that the mark-to-market sweep does not always write to the
ledger, so the state itself must be kept). ``rule_state_from_payload(rule_state_payload(s)) == s``
exactly.
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

from propdesk.risk.state import Breach, DayRecord, RuleState

_NESTED: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    if cls not in _NESTED:
        _NESTED[cls] = typing.get_type_hints(cls)
    return _NESTED[cls]


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


def _decode(hint: Any, raw: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, UnionType):
        if raw is None:
            return None
        (inner,) = [a for a in typing.get_args(hint) if a is not type(None)]
        return _decode(inner, raw)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return tuple(_decode(item, v) for v in raw)
    if origin is not None and issubclass(origin, Mapping):
        _, value_hint = typing.get_args(hint)
        return MappingProxyType({k: _decode(value_hint, v) for k, v in raw.items()})
    if hint is Decimal:
        return Decimal(raw)
    if hint is datetime:
        return datetime.fromisoformat(raw)
    if hint is date:
        return date.fromisoformat(raw)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(raw)
    if hint in (DayRecord, Breach, RuleState):
        hints = _hints(hint)
        return hint(**{f.name: _decode(hints[f.name], raw[f.name]) for f in dataclasses.fields(hint)})
    return raw


def rule_state_payload(state: RuleState) -> dict[str, Any]:
    """A JSON-safe dict of ``state``."""
    encoded = _encode(state)
    assert isinstance(encoded, dict)
    return encoded


def rule_state_from_payload(payload: Mapping[str, Any]) -> RuleState:
    """The rule state stored by :func:`rule_state_payload`."""
    state = _decode(RuleState, dict(payload))
    assert isinstance(state, RuleState)
    return state
