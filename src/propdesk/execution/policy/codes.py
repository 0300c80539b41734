"""Stable codes of every pre-trade check, whichever door a trade comes through.

The codes are part of the API (clients branch on them, dashboards count them), so a code is never
renamed; a new check gets a new code. One limit has one code at every door. ``docs/checks.md``
documents the table and a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Literal

# What a check measured and the limit it compared against: exact numbers for limit checks, words
# for categorical checks (a status, a direction), None where nothing could be measured.
CheckValue = Decimal | int | str | None


class CheckCode(StrEnum):
    # --- decision actions: the seed execution policy, in report order -------------------------
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
    # --- orders (/v2 and /api/v1): the request and the exposure it adds -----------------------
    ACCOUNT_NOT_ACTIVE = "account_not_active"
    ASSET_CLASS_NOT_ALLOWED = "asset_class_not_allowed"
    SYMBOL_NOT_ALLOWED = "symbol_not_allowed"
    ASSET_NOT_TRADABLE = "asset_not_tradable"
    INVALID_NOTIONAL = "invalid_notional"
    INVALID_ORDER_TYPE = "invalid_order_type"
    INVALID_PRICE = "invalid_price"
    INVALID_LEGS = "invalid_legs"
    INVALID_TIME_IN_FORCE = "invalid_time_in_force"
    MARKET_OPEN = "market_open"
    MARKET_CLOSED = "market_closed"
    FORCED_OUTCOME_NOT_ALLOWED = "forced_outcome_not_allowed"
    NEW_ORDERS_DISABLED = "new_orders_disabled"
    SHORT_SELLING_NOT_ALLOWED = "short_selling_not_allowed"
    NOT_SHORTABLE = "not_shortable"
    HARD_TO_BORROW = "hard_to_borrow"
    LONG_NOT_ALLOWED = "long_not_allowed"
    # --- /v2 account configuration (Alpaca's switches) ----------------------------------------
    TRADING_SUSPENDED = "trading_suspended"
    FRACTIONAL_TRADING_DISABLED = "fractional_trading_disabled"
    OPTIONS_TRADING_DISABLED = "options_trading_disabled"
    OPTIONS_LEVEL_TOO_LOW = "options_level_too_low"
    SHORTING_DISABLED = "shorting_disabled"
    # --- the prop-firm rule pack (accounts with a pack, every door) ---------------------------
    RULE_ACCOUNT_OUTCOME = "rule:account_outcome"
    RULE_DAY_LOCKED = "rule:day_locked"
    RULE_FLAT_BY = "rule:flat_by"
    RULE_MAX_CONTRACTS = "rule:max_contracts"
    RULE_VPIN = "rule:vpin"


# The seed checks of a decision action, in report order.
ACTION_CHECKS: tuple[CheckCode, ...] = (
    CheckCode.UNSUPPORTED_ACTION,
    CheckCode.ACCOUNT_INACTIVE,
    CheckCode.ASSET_NOT_ALLOWED,
    CheckCode.CONTRACT_EXPIRED,
    CheckCode.NO_POSITION,
    CheckCode.OPPOSITE_POSITION,
    CheckCode.SIDE_MISMATCH,
    CheckCode.INVALID_QUANTITY,
    CheckCode.REDUCE_EXCEEDS_POSITION,
    CheckCode.PRICE_MISSING,
    CheckCode.PRICE_STALE,
    CheckCode.DIRECTION_NOT_ALLOWED,
    CheckCode.MAX_ORDER_NOTIONAL,
    CheckCode.MAX_ORDER_LEVERAGE,
    CheckCode.MAX_AGGREGATE_LEVERAGE,
    CheckCode.MAX_POSITION_TO_EQUITY,
    CheckCode.INSUFFICIENT_BUYING_POWER,
    CheckCode.MAX_OPEN_POSITIONS,
    CheckCode.MAX_OPEN_ORDERS,
)

# The rule pack's checks, in report order.
RULE_CHECKS: tuple[CheckCode, ...] = (
    CheckCode.RULE_ACCOUNT_OUTCOME,
    CheckCode.RULE_DAY_LOCKED,
    CheckCode.RULE_FLAT_BY,
    CheckCode.RULE_MAX_CONTRACTS,
    CheckCode.RULE_VPIN,
)

# How an order API answers a refusal: ``invalid`` (422, the request is wrong) or ``forbidden``
# (403, the account may not). Seed checks that only decision actions run have no entry: a failed
# decision action is recorded ``rejected`` with every check's result, not answered with an error.
Kind = Literal["invalid", "forbidden", "not_found", "conflict"]
ORDER_REFUSAL: Mapping[CheckCode, Kind] = {
    CheckCode.CONTRACT_EXPIRED: "invalid",
    CheckCode.INVALID_QUANTITY: "invalid",
    CheckCode.PRICE_MISSING: "invalid",
    CheckCode.MAX_ORDER_NOTIONAL: "forbidden",
    CheckCode.INSUFFICIENT_BUYING_POWER: "forbidden",
    CheckCode.MAX_OPEN_POSITIONS: "forbidden",
    CheckCode.MAX_OPEN_ORDERS: "forbidden",
    CheckCode.ACCOUNT_NOT_ACTIVE: "forbidden",
    CheckCode.ASSET_CLASS_NOT_ALLOWED: "invalid",
    CheckCode.SYMBOL_NOT_ALLOWED: "invalid",
    CheckCode.ASSET_NOT_TRADABLE: "forbidden",
    CheckCode.INVALID_NOTIONAL: "invalid",
    CheckCode.INVALID_ORDER_TYPE: "invalid",
    CheckCode.INVALID_PRICE: "invalid",
    CheckCode.INVALID_LEGS: "invalid",
    CheckCode.INVALID_TIME_IN_FORCE: "invalid",
    CheckCode.MARKET_OPEN: "invalid",
    CheckCode.MARKET_CLOSED: "invalid",
    CheckCode.FORCED_OUTCOME_NOT_ALLOWED: "forbidden",
    CheckCode.NEW_ORDERS_DISABLED: "forbidden",
    CheckCode.SHORT_SELLING_NOT_ALLOWED: "forbidden",
    CheckCode.NOT_SHORTABLE: "forbidden",
    CheckCode.HARD_TO_BORROW: "forbidden",
    CheckCode.LONG_NOT_ALLOWED: "forbidden",
    CheckCode.TRADING_SUSPENDED: "forbidden",
    CheckCode.FRACTIONAL_TRADING_DISABLED: "invalid",
    CheckCode.OPTIONS_TRADING_DISABLED: "forbidden",
    CheckCode.OPTIONS_LEVEL_TOO_LOW: "forbidden",
    CheckCode.SHORTING_DISABLED: "forbidden",
    CheckCode.RULE_ACCOUNT_OUTCOME: "forbidden",
    CheckCode.RULE_DAY_LOCKED: "forbidden",
    CheckCode.RULE_FLAT_BY: "forbidden",
    CheckCode.RULE_MAX_CONTRACTS: "forbidden",
    CheckCode.RULE_VPIN: "forbidden",
}

# The HTTP status of each kind, the same on /api/v1 and /v2.
HTTP_STATUS: Mapping[Kind, int] = {"invalid": 422, "forbidden": 403, "not_found": 404, "conflict": 422}
