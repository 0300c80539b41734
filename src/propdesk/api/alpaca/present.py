"""Orders in Alpaca's wire shape (docs/alpaca.md, "Endpoints"), shared by every /v2 route
that returns one (orders, position closes, the trade-updates stream).

Simple orders carry ``order_class ""``; a multi-leg parent has ``""`` for symbol, side,
asset id and asset class and lists its legs, each with ``order_class "mleg"``, ``type ""`` and
its ``ratio_qty``. Futures (not an Alpaca asset class) are shown as ``us_equity`` so that the
SDK's enum parses; their symbol tells them apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from propdesk.api.alpaca.wire import asset_id, dec, derived, ts
from propdesk.model.instruments import AssetClass
from propdesk.model.orders import LegRole, Order, OrderClass


def alpaca_asset_class(asset_class: AssetClass) -> str:
    return "us_equity" if asset_class is AssetClass.FUTURE else asset_class.value


def order(o: Order, legs: Sequence[Order] | None = None, *, nested: bool = True) -> dict[str, Any]:
    """One order; ``legs`` (bracket/oco/oto children or multi-leg legs) nested when given."""
    mleg_parent = o.order_class is OrderClass.MLEG and o.parent_id is None
    mleg_leg = o.leg_role is LegRole.OPTION_LEG
    order_class = "" if o.order_class is OrderClass.SIMPLE else o.order_class.value
    order_type = "" if mleg_leg else o.type.value
    shown_legs = [order(leg) for leg in legs] if legs and nested else None
    return {
        "id": o.id,
        "client_order_id": o.client_order_id,
        "created_at": ts(o.created_at),
        "updated_at": ts(o.updated_at),
        "submitted_at": ts(o.created_at),
        "filled_at": ts(o.filled_at),
        "expired_at": ts(o.expired_at),
        "canceled_at": ts(o.canceled_at),
        "failed_at": ts(o.failed_at),
        "replaced_at": ts(o.replaced_at),
        "replaced_by": o.replaced_by,
        "replaces": o.replaces,
        "asset_id": "" if mleg_parent else asset_id(o.symbol),
        "symbol": "" if mleg_parent else o.symbol,
        "asset_class": "" if mleg_parent else alpaca_asset_class(o.asset_class),
        "notional": dec(o.notional),
        "qty": None if o.notional is not None and o.filled_qty == 0 else dec(o.qty),
        "filled_qty": dec(o.filled_qty),
        "filled_avg_price": derived(o.filled_avg_price),
        "order_class": order_class,
        "order_type": order_type,
        "type": order_type,
        "side": "" if mleg_parent else o.side.value,
        "time_in_force": o.time_in_force.value,
        "limit_price": dec(o.limit_price),
        "stop_price": dec(o.stop_price),
        "status": o.status.value,
        "extended_hours": o.extended_hours,
        "legs": shown_legs,
        "trail_percent": dec(o.trail_percent),
        "trail_price": dec(o.trail_price),
        "hwm": dec(o.watermark),
        "ratio_qty": None if o.ratio_qty is None else str(o.ratio_qty),
        "source": None,
        "subtag": None,
    }
