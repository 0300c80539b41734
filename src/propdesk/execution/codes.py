"""Stable codes of the pre-trade safety gates, in the order they are evaluated and reported.

The codes are part of the API (clients branch on them, dashboards count them), so a code is never
renamed; new gates get new codes.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum


class GateCode(StrEnum):
    UNSUPPORTED_ACTION = "unsupported_action"
    ACCOUNT_INACTIVE = "account_inactive"
    ASSET_NOT_ALLOWED = "asset_not_allowed"
    CONTRACT_EXPIRED = "contract_expired"
    NO_POSITION = "no_position"
    OPPOSITE_POSITION = "opposite_position"
    SIDE_MISMATCH = "side_mismatch"
    INVALID_QUANTITY = "invalid_quantity"
    REDUCE_EXCEEDS_POSITION = "reduce_exceeds_position"
    PRICE_MISSING = "price_missing"
    PRICE_STALE = "price_stale"
    DIRECTION_NOT_ALLOWED = "direction_not_allowed"
    MAX_ORDER_NOTIONAL = "max_order_notional"
    MAX_ORDER_LEVERAGE = "max_order_leverage"
    MAX_AGGREGATE_LEVERAGE = "max_aggregate_leverage"
    MAX_POSITION_TO_EQUITY = "max_position_to_equity"
    INSUFFICIENT_BUYING_POWER = "insufficient_buying_power"
    MAX_OPEN_POSITIONS = "max_open_positions"
    MAX_OPEN_ORDERS = "max_open_orders"


# Every gate, in report order.
GATE_ORDER: tuple[GateCode, ...] = tuple(GateCode)

# What a gate measured and the limit it compared against: exact numbers for limit gates, words for
# categorical gates (a status, a direction), None where nothing could be measured.
GateValue = Decimal | int | str | None
