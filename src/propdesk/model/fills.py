"""A fill: the single fact from which positions, cash and PnL follow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from propdesk.model.ids import AccountId
from propdesk.model.instruments import InstrumentSpec
from propdesk.model.numbers import ZERO
from propdesk.model.orders import Order, OrderStatus, OrderType, Side, TimeInForce


@dataclass(frozen=True, slots=True)
class Fill:
    """An execution of ``qty`` (always positive) on ``side`` at ``price``.

    ``bid``, ``ask``, ``mark`` and ``slippage`` record the quote the fill model used so that any
    fill can be audited and replayed. ``slippage`` is signed against the trader: positive when
    the fill price is worse than the mark.
    """

    fill_id: str
    order_id: str | None
    instrument: InstrumentSpec
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal
    time: datetime
    bid: Decimal | None = None
    ask: Decimal | None = None
    mark: Decimal | None = None
    slippage: Decimal = ZERO
    liquidity: str = "taker"

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise ValueError("fill qty must be positive")
        if self.fee < 0:
            raise ValueError("fill fee must not be negative")
        if self.time.tzinfo is None:
            raise ValueError("fill time must be timezone-aware")

    @property
    def symbol(self) -> str:
        return self.instrument.symbol

    @property
    def signed_qty(self) -> Decimal:
        return self.qty if self.side is Side.BUY else -self.qty

    @property
    def notional(self) -> Decimal:
        return self.qty * self.price * self.instrument.multiplier


def filled_market_order(
    *,
    order_id: str,
    account_id: AccountId,
    fill: Fill,
    time_in_force: TimeInForce,
    at: datetime,
    notional: Decimal | None = None,
) -> Order:
    """A market order that ``fill`` filled whole at ``at``: the order standing for a fill no order
    of the order engine placed (a decision action, a liquidation, a flatten)."""
    return Order(
        id=order_id,
        account_id=account_id,
        client_order_id=order_id,
        symbol=fill.symbol,
        asset_class=fill.instrument.asset_class,
        side=fill.side,
        type=OrderType.MARKET,
        time_in_force=time_in_force,
        status=OrderStatus.FILLED,
        qty=fill.qty,
        notional=notional,
        filled_qty=fill.qty,
        filled_value=fill.qty * fill.price,
        filled_at=at,
        created_at=at,
        updated_at=at,
    )
