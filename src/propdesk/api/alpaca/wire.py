"""Alpaca's wire formats: decimal strings, RFC 3339 UTC timestamps, UUID asset ids, lenient booleans.

Every /v2 presenter formats through these helpers so that one rule holds everywhere (see
docs/alpaca.md).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from propdesk.api.alpaca.errors import INVALID_PARAMETER, AlpacaError

# Asset ids are derived from the symbol, so they are stable across restarts and databases.
_ASSET_NAMESPACE = uuid.UUID("6f1c1d1e-8e6c-4a47-9a57-70726f706465")


def dec(value: Decimal | None) -> str | None:
    """A decimal as Alpaca sends it: a plain string without exponent or trailing zeros."""
    if value is None:
        return None
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def derived(value: Decimal | None) -> str | None:
    """A derived figure (an average price, a ratio) cut to 12 decimal places, as a string."""
    if value is None:
        return None
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -12:
        value = value.quantize(Decimal("1e-12"))
    return dec(value)


def ts(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with a ``Z`` (alpaca-py parses it with pydantic)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def asset_id(symbol: str) -> str:
    """A stable UUID for a symbol (``BTC/USD`` and ``BTCUSD`` are one asset)."""
    return str(uuid.uuid5(_ASSET_NAMESPACE, symbol.replace("/", "").upper()))


def parse_bool(name: str, value: str | None, default: bool = False) -> bool:
    """``true``/``false`` in any case, or 1/0 (alpaca-py sends ``str(bool)``: ``True``)."""
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise AlpacaError(422, INVALID_PARAMETER, f"{name} must be true or false, not {value!r}")
