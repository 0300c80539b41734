"""The building blocks of a pack: exact scalar types and the base models of its sections.

Numbers in a pack are exact: YAML reads ``2000`` as an int (exact, accepted) and ``0.5`` as a
binary float, which is refused with a message that says to quote it (``"0.5"``); strings are
parsed as written. Times must be quoted too: YAML 1.1 reads an unquoted ``17:00`` as the
sexagesimal number 1020.
"""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from propdesk.model.fields import SIGNED_SCHEMA
from propdesk.model.numbers import NotExactError, parse_decimal

HUNDRED = Decimal(100)


def _exact(value: object, info: ValidationInfo) -> Decimal:
    if isinstance(value, float):
        raise ValueError(
            f"{value!r} is a binary float (an unquoted YAML number with a decimal point); "
            f"quote it, e.g. '{value}', so it stays exact"
        )
    name = info.field_name or "value"
    try:
        return parse_decimal(value, field=name, signed=True)
    except NotExactError as exc:
        raise ValueError(str(exc).removeprefix(f"{name}: ")) from exc


def _clock_time(value: object) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(
            f"{value} is a number: quote times, e.g. '17:00' (YAML 1.1 reads an unquoted 17:00 as 1020)"
        )
    if not isinstance(value, str) or not re.fullmatch(r"\d{2}:\d{2}(:00)?", value.strip()):
        raise ValueError(f"{value!r} is not a time of day written as 'HH:MM'")
    hours, minutes = (int(part) for part in value.strip().split(":")[:2])
    if hours > 23 or minutes > 59:
        raise ValueError(f"{value!r} is not a valid time of day")
    return time(hours, minutes)


def _zone(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an IANA time zone name")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not a known IANA time zone (e.g. 'America/Chicago')") from exc
    return value


Exact = Annotated[Decimal, BeforeValidator(_exact), WithJsonSchema(SIGNED_SCHEMA)]
ClockTime = Annotated[
    time, BeforeValidator(_clock_time), PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str)
]
ZoneName = Annotated[str, BeforeValidator(_zone)]


class PackModel(BaseModel):
    """A frozen section of a pack that refuses unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class SizedRule(PackModel):
    """A size written either as an exact ``amount`` or as a ``percent`` of a base."""

    amount: Exact | None = None
    percent: Exact | None = None

    @model_validator(mode="after")
    def _one_size(self) -> Self:
        if (self.amount is None) == (self.percent is None):
            raise ValueError("give exactly one of 'amount' or 'percent'")
        for name in ("amount", "percent"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive, got {value}")
        return self

    def size_of(self, base: Decimal) -> Decimal:
        """The size in money: the amount, or the percentage of ``base``."""
        if self.amount is not None:
            return self.amount
        assert self.percent is not None
        return base * self.percent / HUNDRED
