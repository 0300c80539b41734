"""Alpaca Market Data wire shapes: the pydantic models every response body is validated by, and
their conversion to :mod:`propdesk.model.market` values (see :mod:`propdesk.marketdata.alpaca`).

Bodies are decoded with ``parse_float=Decimal`` (NaN and Infinity refused), so no price passes
through a binary float; a one-sided or crossed quote converts to None (left out, logged at INFO).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from propdesk.model.market import Bar, Quote

log = logging.getLogger("propdesk.marketdata.alpaca")

_OCC = re.compile(r"[A-Z]{1,6}\d{6}[CP]\d{8}")
_DATED_FUTURE = re.compile(r"/?[A-Z0-9]{1,4}[FGHJKMNQUVXZ]\d{2}")


class WireModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    @field_validator("t", mode="after", check_fields=False)
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("timestamp without a time zone")
        return value.astimezone(UTC)


class WireQuote(WireModel):
    t: datetime
    bp: Decimal = Field(ge=0)
    ap: Decimal = Field(ge=0)
    bs: Decimal = Field(default=Decimal(0), ge=0)
    as_: Decimal = Field(default=Decimal(0), ge=0, alias="as")


class WireTrade(WireModel):
    t: datetime
    p: Decimal = Field(ge=0)
    s: Decimal = Field(ge=0)
    x: str | None = None
    i: int | None = None


class WireBar(WireModel):
    t: datetime
    o: Decimal
    h: Decimal
    l: Decimal  # noqa: E741 - Alpaca's field name
    c: Decimal
    v: Decimal = Field(ge=0)
    n: int | None = Field(default=None, ge=0)
    vw: Decimal | None = None


class LatestQuotes(WireModel):
    quotes: dict[str, WireQuote]


class LatestTrades(WireModel):
    trades: dict[str, WireTrade]


class LatestBars(WireModel):
    bars: dict[str, WireBar]


class BarsPage(WireModel):
    bars: dict[str, list[WireBar]] | None
    next_page_token: str | None = None


@dataclass(frozen=True, slots=True)
class Trade:
    """The last trade of a symbol."""

    symbol: str
    time: datetime
    price: Decimal
    size: Decimal
    exchange: str | None = None
    trade_id: int | None = None


def decode_json(content: bytes) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not a number")

    return json.loads(content, parse_float=Decimal, parse_constant=refuse)


def to_quote(symbol: str, wire: WireQuote) -> Quote | None:
    if wire.bp <= 0 or wire.ap <= 0 or wire.bp > wire.ap:
        log.info(
            "alpaca quote for %s is one-sided or crossed (bid %s, ask %s): left out", symbol, wire.bp, wire.ap
        )
        return None
    return Quote(symbol, wire.t, wire.bp, wire.ap, None, wire.bs, wire.as_)


def to_bar(symbol: str, timeframe: str, wire: WireBar) -> Bar:
    return Bar(symbol, timeframe, wire.t, wire.o, wire.h, wire.l, wire.c, wire.v, wire.vw, wire.n)


def to_trade(symbol: str, wire: WireTrade) -> Trade:
    return Trade(symbol, wire.t, wire.p, wire.s, wire.x, wire.i)


def symbol_kind(symbol: str) -> str:
    """``crypto`` (``BTC/USD``), ``option`` (an OCC symbol), ``future`` or ``stock``."""
    text = symbol.strip().upper()
    if _OCC.fullmatch(text):
        return "option"
    if text.startswith("/") or _DATED_FUTURE.fullmatch(text):
        return "future"
    if "/" in text:
        return "crypto"
    return "stock"
