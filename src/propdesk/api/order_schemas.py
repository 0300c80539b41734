"""Wire shapes of the order API: order and replace requests, order lists, the evaluator's cursor."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    Field,
    field_validator,
)

from propdesk.api.schemas import (
    OrderOut,
    Wire,
)
from propdesk.model.fields import PositiveDecimal
from propdesk.model.instruments import AssetClass
from propdesk.model.orders import OrderType, Side, TimeInForce
from propdesk.model.text import check_printable_id

# Order amounts and prices are exact: a decimal string ("10", "150.25") or a JSON number, both read
# exactly in the grammar of propdesk.model.numbers (no "+", "_", exponent in a string, NaN or
# infinity); at most 10^12 and 18 decimals, so every value is stored as it is on both databases.

PositiveExact = PositiveDecimal
StrictFlag = Annotated[bool, Field(strict=True)]


def _client_order_id(value: str | None) -> str | None:
    """1 to 128 printable characters (the same rule as on /v2)."""
    return None if value is None else check_printable_id(value, field="clientOrderId")


class TakeProfitIn(Wire):
    limit_price: PositiveExact


class StopLossIn(Wire):
    stop_price: PositiveExact
    limit_price: PositiveExact | None = Field(default=None, description="makes the stop-loss a stop-limit")


class OrderIn(Wire):
    """A new order in Alpaca's vocabulary (camelCase); give exactly one of ``qty`` and ``notional``."""

    client_order_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="unique per account; resending the same order with it returns the stored order",
    )
    symbol: str = Field(min_length=1, max_length=64)
    asset_class: AssetClass | None = Field(default=None, description="inferred from the symbol if absent")
    side: Side
    type: OrderType = OrderType.MARKET
    time_in_force: TimeInForce = TimeInForce.DAY
    qty: PositiveExact | None = None
    notional: PositiveExact | None = None
    limit_price: PositiveExact | None = None
    stop_price: PositiveExact | None = None
    trail_price: PositiveExact | None = None
    trail_percent: PositiveExact | None = None
    order_class: Literal["simple", "bracket", "oco", "oto"] = "simple"
    take_profit: TakeProfitIn | None = None
    stop_loss: StopLossIn | None = None
    extended_hours: StrictFlag = False

    _printable = field_validator("client_order_id")(_client_order_id)

    @field_validator("client_order_id", "symbol")
    @classmethod
    def _within_the_decimal_range(cls, value: str | None) -> str | None:
        # Idempotency compares number-like strings by their normalized value; a string that reads
        # as a number beyond the decimal range (e.g. "1E9999999") cannot be normalized. No symbol
        # or client order id looks like that, so it is refused here rather than failing later.
        if value is None:
            return value
        try:
            number = Decimal(value)
        except ArithmeticError:
            return value
        try:
            number.normalize()
        except ArithmeticError:
            raise ValueError("must not be a number outside the decimal range") from None
        return value


class ReplaceIn(Wire):
    """Alpaca's PATCH fields; an absent field keeps the old order's value."""

    qty: PositiveExact | None = Field(default=None, description="the new order's total quantity")
    time_in_force: TimeInForce | None = None
    limit_price: PositiveExact | None = None
    stop_price: PositiveExact | None = None
    trail: PositiveExact | None = Field(default=None, description="new trail_price or trail_percent")
    client_order_id: str | None = Field(
        default=None, min_length=1, max_length=128, description="the new order's; a new id if absent"
    )

    _printable = field_validator("client_order_id")(_client_order_id)


class OrderListOut(Wire):
    items: list[OrderOut]


class EvaluationOut(Wire):
    ticks: int = Field(description="market events this run fed to the open orders")
    fills: int
    evaluated_through: datetime | None
    delayed: bool = Field(description="the run caught up on more events than the notice threshold")


class EvaluationCursorOut(Wire):
    evaluated_through: datetime | None
    last_run_at: datetime | None
    last_run_ticks: int
    total_ticks: int
    delayed: bool = Field(
        description="lastRunTicks > PROPDESK_ORDERS_CATCH_UP_NOTICE: fills may have been delayed"
    )
