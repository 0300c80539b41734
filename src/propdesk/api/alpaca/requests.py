"""Request bodies of the Alpaca-compatible API, in Alpaca's snake_case vocabulary.

Decimals arrive as JSON numbers from alpaca-py (``"qty": 10.0``, ``"qty": 1e-05``) and as strings
from curl users and Alpaca's own examples (``"qty": "10"``); both are read exactly: the body is
decoded with ``parse_float=Decimal`` (:mod:`propdesk.api.routing`), so ``1e-05`` is exactly
0.00001, and a string must be in the one grammar of :func:`propdesk.model.numbers.parse_decimal`
(ASCII digits, optional ``-`` and fraction; no ``+``, ``_``, exponent or other digits). Booleans,
NaN, infinities and anything beyond 10^12 or 18 decimals are refused with a 422 naming the field,
and so is text with a control character or an unpaired surrogate (:mod:`propdesk.model.text`).
Unknown fields are refused too: a misspelt ``stop_price`` must not turn a stop order into a
market order.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Literal, Self

from pydantic import (
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from propdesk.execution.multileg import Leg
from propdesk.execution.order_book.requests import OrderRequest, ReplaceRequest, StopLoss, TakeProfit
from propdesk.execution.spread_orders import SpreadRequest
from propdesk.model.fields import PositiveDecimal, SignedDecimal
from propdesk.model.instruments import InvalidSymbolError, crypto_pair
from propdesk.model.orders import OrderClass, OrderType, Side, TimeInForce
from propdesk.model.text import CheckedText, check_printable_id
from propdesk.services.alpaca.trading_account import CheckTiming, ConfigurationChange, ConfirmEmail

Amount = SignedDecimal
Positive = PositiveDecimal


def order_symbol(symbol: str) -> str:
    """The symbol an order trades: upper case, and a crypto pair sent without its slash (Alpaca
    shows positions as ``BTCUSD``) read as the pair (``BTC/USD``). No US equity ticker has six or
    more letters, so a longer symbol that reads as a pair is one."""
    text = symbol.strip().upper()
    if "/" not in text and len(text) > 5:
        try:
            return crypto_pair(text).symbol
        except InvalidSymbolError:
            pass
    return text


class PositionIntent(StrEnum):
    BUY_TO_OPEN = "buy_to_open"
    BUY_TO_CLOSE = "buy_to_close"
    SELL_TO_OPEN = "sell_to_open"
    SELL_TO_CLOSE = "sell_to_close"

    @property
    def side(self) -> Side:
        return Side.BUY if self.value.startswith("buy") else Side.SELL


def _side_of(side: Side | None, intent: PositionIntent | None, where: str) -> Side | None:
    if side is not None and intent is not None and intent.side is not side:
        raise ValueError(f"{where}side {side.value} contradicts position_intent {intent.value}")
    return side if side is not None else None if intent is None else intent.side


class AlpacaBody(CheckedText):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _client_order_id(value: str | None) -> str | None:
    return None if value is None else check_printable_id(value, field="client_order_id")


class TakeProfitIn(AlpacaBody):
    limit_price: Positive


class StopLossIn(AlpacaBody):
    stop_price: Positive
    limit_price: Positive | None = Field(default=None, description="makes the stop-loss a stop-limit")


class LegIn(AlpacaBody):
    symbol: str = Field(min_length=1, max_length=64)
    ratio_qty: Positive
    side: Side | None = None
    position_intent: PositionIntent | None = None

    @model_validator(mode="after")
    def _whole_ratio(self) -> Self:
        if self.ratio_qty != self.ratio_qty.to_integral_value():
            raise ValueError("ratio_qty must be a whole number")
        if _side_of(self.side, self.position_intent, "leg ") is None:
            raise ValueError("a leg needs side or position_intent")
        return self

    def leg(self) -> Leg:
        side = _side_of(self.side, self.position_intent, "leg ")
        assert side is not None
        return Leg(symbol=order_symbol(self.symbol), side=side, ratio_qty=int(self.ratio_qty))


class OrderIn(AlpacaBody):
    """``POST /v2/orders`` (docs/alpaca.md, "Endpoints")."""

    symbol: str | None = Field(default=None, min_length=1, max_length=64)
    qty: Positive | None = None
    notional: Positive | None = None
    side: Side | None = None
    type: OrderType
    time_in_force: TimeInForce
    limit_price: Amount | None = Field(
        default=None, description="for mleg: positive is a debit, negative a credit"
    )
    stop_price: Positive | None = None
    trail_price: Positive | None = None
    trail_percent: Positive | None = None
    extended_hours: StrictBool = False
    client_order_id: str | None = Field(default=None, min_length=1, max_length=128)
    order_class: Literal["", "simple", "bracket", "oco", "oto", "mleg"] = ""
    take_profit: TakeProfitIn | None = None
    stop_loss: StopLossIn | None = None
    legs: list[LegIn] | None = Field(default=None, min_length=2, max_length=4)
    position_intent: PositionIntent | None = None

    _printable = field_validator("client_order_id")(_client_order_id)

    @property
    def is_mleg(self) -> bool:
        return self.order_class == "mleg"

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.qty is None) == (self.notional is None):
            raise ValueError("give exactly one of qty and notional")
        if self.is_mleg:
            if self.qty is None:
                raise ValueError("qty is required for mleg orders")
            if not self.legs:
                raise ValueError("legs are required for mleg orders")
            if len({order_symbol(leg.symbol) for leg in self.legs}) != len(self.legs):
                raise ValueError("legs must have unique symbols")
            return self
        if self.legs is not None:
            raise ValueError("legs are only for mleg orders")
        if self.symbol is None:
            raise ValueError("symbol is required")
        if _side_of(self.side, self.position_intent, "") is None:
            raise ValueError("side is required")
        if self.limit_price is not None and self.limit_price <= 0:
            raise ValueError("limit_price must be greater than 0")
        tp = self.take_profit
        if self.order_class == "oco" and tp is not None and self.limit_price not in (None, tp.limit_price):
            raise ValueError("an oco order's limit_price is its take_profit.limit_price")
        return self

    def order_request(self, new_id: Callable[[], str]) -> OrderRequest:
        side = _side_of(self.side, self.position_intent, "")
        assert self.symbol is not None
        assert side is not None
        limit_price = self.limit_price
        if self.order_class == "oco" and limit_price is None and self.take_profit is not None:
            limit_price = self.take_profit.limit_price  # Alpaca's oco is its take-profit limit
        stop_loss = self.stop_loss
        return OrderRequest(
            client_order_id=self.client_order_id or new_id(),
            symbol=order_symbol(self.symbol),
            side=side,
            type=self.type,
            time_in_force=self.time_in_force,
            qty=self.qty,
            notional=self.notional,
            limit_price=limit_price,
            stop_price=self.stop_price,
            trail_price=self.trail_price,
            trail_percent=self.trail_percent,
            order_class=OrderClass(self.order_class or "simple"),
            take_profit=None
            if self.take_profit is None
            else TakeProfit(limit_price=self.take_profit.limit_price),
            stop_loss=None
            if stop_loss is None
            else StopLoss(stop_price=stop_loss.stop_price, limit_price=stop_loss.limit_price),
            extended_hours=self.extended_hours,
        )

    def spread_request(self, new_id: Callable[[], str]) -> SpreadRequest:
        assert self.qty is not None
        assert self.legs is not None
        return SpreadRequest(
            client_order_id=self.client_order_id or new_id(),
            legs=tuple(leg.leg() for leg in self.legs),
            qty=self.qty,
            type=self.type,
            limit_price=self.limit_price,
            time_in_force=self.time_in_force,
        )


class ReplaceIn(AlpacaBody):
    """``PATCH /v2/orders/{order_id}``: an absent field keeps the old order's value."""

    qty: Positive | None = None
    time_in_force: TimeInForce | None = None
    limit_price: Positive | None = None
    stop_price: Positive | None = None
    trail: Positive | None = Field(default=None, description="the new trail_price or trail_percent")
    client_order_id: str | None = Field(default=None, min_length=1, max_length=128)

    _printable = field_validator("client_order_id")(_client_order_id)

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if all(
            v is None for v in (self.qty, self.time_in_force, self.limit_price, self.stop_price, self.trail)
        ):
            raise ValueError(
                "order parameters are not changed: give qty, time_in_force, limit_price, stop_price or trail"
            )
        return self

    def replace_request(self) -> ReplaceRequest:
        return ReplaceRequest(
            qty=self.qty,
            time_in_force=self.time_in_force,
            limit_price=self.limit_price,
            stop_price=self.stop_price,
            trail=self.trail,
            client_order_id=self.client_order_id,
        )


class ConfigurationIn(AlpacaBody):
    """``PATCH /v2/account/configurations``; null keeps a value (alpaca-py sends every field)."""

    dtbp_check: CheckTiming | None = None
    fractional_trading: StrictBool | None = None
    max_margin_multiplier: Positive | None = None
    no_shorting: StrictBool | None = None
    pdt_check: CheckTiming | None = None
    suspend_trade: StrictBool | None = None
    trade_confirm_email: ConfirmEmail | None = None
    ptp_no_exception_entry: StrictBool | None = None
    max_options_trading_level: StrictInt | None = None

    def change(self) -> ConfigurationChange:
        return ConfigurationChange(**self.model_dump())
