"""Wire shapes of the service and admin APIs: camelCase JSON, decimals as strings.

Requests accept decimals as JSON strings or JSON numbers, both read exactly (the body is decoded
with ``parse_float=Decimal``, see :mod:`propdesk.api.routing`) in the one grammar of
:func:`propdesk.model.numbers.parse_decimal`; responses always send strings, so no client parser
turns money into a float by accident. Every request model checks its text (:mod:`propdesk.model.text`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import (
    ConfigDict,
    Field,
)
from pydantic.alias_generators import to_camel

from propdesk.model.fields import PositiveDecimal
from propdesk.model.instruments import AssetClass
from propdesk.model.orders import ActionKind, Side
from propdesk.model.text import CheckedText


class Wire(CheckedText):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ErrorOut(Wire):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


# --- accounts ----------------------------------------------------------------------------------


class CreateAccountIn(Wire):
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    preset: str = "audition"
    policy: dict[str, Any] = Field(default_factory=dict, description="overrides of the preset's fields")
    owner_user_id: str | None = Field(default=None, min_length=1, max_length=64)
    clone_id: str | None = Field(default=None, min_length=1, max_length=64)
    parent_account_id: str | None = Field(default=None, min_length=1, max_length=64)
    mode: str = Field(default="audition", min_length=1, max_length=32)
    rule_pack: str | None = Field(
        default=None,
        min_length=1,
        max_length=120,
        description="a shipped rule pack id or id@version (GET /api/v1/risk/packs); stored on the account",
    )


class ReasonIn(Wire):
    reason: str = Field(default="", max_length=2000)


class AdminReasonIn(Wire):
    reason: str = Field(min_length=1, max_length=2000)


class BalanceOut(Wire):
    cash: Decimal
    equity: Decimal
    balance: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal
    adjustments: Decimal
    high_watermark: Decimal
    day_start_equity: Decimal
    day_start_balance: Decimal
    trading_day: str | None
    reserved_for_orders: Decimal
    margin_used: Decimal
    available_capital: Decimal
    buying_power: Decimal
    gross_exposure: Decimal
    drawdown_from_start: Decimal


class AccountOut(Wire):
    id: str
    status: str
    mode: str
    owner_user_id: str | None
    clone_id: str | None
    parent_account_id: str | None
    currency: str
    starting_balance: Decimal
    idempotency_key: str | None
    policy: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    ledger_seq: int
    balance: BalanceOut
    rule_pack: str | None = Field(default=None, description="id@version of the account's rule pack")
    outcome: str | None = Field(default=None, description="passed or failed, once the evaluation is decided")


class PositionOut(Wire):
    symbol: str
    asset_class: str
    multiplier: Decimal
    qty: Decimal
    side: str
    avg_price: Decimal
    cost: Decimal
    mark: Decimal
    market_value: Decimal
    unrealized_pnl: Decimal
    opened_at: datetime


class HeartbeatOut(Wire):
    name: str
    beat_at: datetime | None
    age_seconds: Decimal | None
    details: dict[str, Any] = Field(default_factory=dict)


class SnapshotOut(Wire):
    account: AccountOut
    positions: list[PositionOut]
    as_of: datetime
    mark_to_market: HeartbeatOut


class HeadroomOut(Wire):
    order_notional: Decimal
    gross_exposure: Decimal
    positions: int
    orders: int
    buying_power: Decimal


class QuoteOut(Wire):
    symbol: str
    time: datetime
    bid: Decimal
    ask: Decimal
    mid: Decimal
    last: Decimal | None
    age_seconds: Decimal


class FillOut(Wire):
    id: str
    order_id: str | None
    symbol: str
    asset_class: str
    side: str
    qty: Decimal
    price: Decimal
    fee: Decimal
    bid: Decimal | None
    ask: Decimal | None
    mark: Decimal | None
    slippage: Decimal
    time: datetime
    voided_at: datetime | None


class DecisionContextOut(Wire):
    snapshot: SnapshotOut
    headroom: HeadroomOut
    open_orders: int
    recent_fills: list[FillOut]
    quotes: dict[str, QuoteOut | None]
    rules: dict[str, Any] | None = Field(
        default=None, description="the rule status (as GET …/rules) when the account has a rule pack"
    )


class OrderOut(Wire):
    id: str
    client_order_id: str | None
    symbol: str
    asset_class: str
    side: str
    type: str
    time_in_force: str
    status: str
    qty: Decimal | None
    notional: Decimal | None
    filled_qty: Decimal
    filled_avg_price: Decimal | None
    created_at: datetime
    updated_at: datetime
    order_class: str = "simple"
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    hwm: Decimal | None = None
    reserved_amount: Decimal = Decimal(0)
    parent_id: str | None = None
    leg_role: str | None = None
    replaces: str | None = None
    replaced_by: str | None = None
    expires_at: datetime | None = None
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    expired_at: datetime | None = None
    replaced_at: datetime | None = None
    failed_at: datetime | None = None
    voided_at: datetime | None = None
    reason: str | None = None
    legs: list[OrderOut] = Field(default_factory=list)


class LedgerEventOut(Wire):
    seq: int
    type: str
    at: datetime
    cash_delta: Decimal
    cash_after: Decimal
    payload: dict[str, Any]
    correlation_id: str | None
    causation_id: str | None
    recorded_at: datetime


class AuditOut(Wire):
    id: int
    actor: str
    action: str
    reason: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: datetime


class PageOut(Wire):
    limit: int
    offset: int
    next_offset: int | None


class LedgerPageOut(Wire):
    items: list[LedgerEventOut]
    page: PageOut


class OrderPageOut(Wire):
    items: list[OrderOut]
    page: PageOut


class FillPageOut(Wire):
    items: list[FillOut]
    page: PageOut


class PositionListOut(Wire):
    items: list[PositionOut]


class AuditPageOut(Wire):
    items: list[AuditOut]
    page: PageOut


class AccountListOut(Wire):
    items: list[AccountOut]


# --- decision actions --------------------------------------------------------------------------


class ActionIn(Wire):
    decision_action_id: str = Field(min_length=1, max_length=128)
    action: ActionKind
    symbol: str | None = Field(default=None, min_length=1, max_length=64)
    qty: PositiveDecimal | None = None
    notional: PositiveDecimal | None = None
    side: Side | None = None
    asset_class: AssetClass | None = None
    note: str | None = Field(default=None, max_length=2000)


class DecisionBatchIn(Wire):
    decision_run_id: str = Field(min_length=1, max_length=128)
    actions: list[ActionIn] = Field(min_length=1, max_length=500)


class GateResultOut(Wire):
    gate: str
    passed: bool
    applicable: bool = True
    value: Any = None
    limit: Any = None
    message: str


class DecisionActionOut(Wire):
    id: str
    account_id: str
    decision_run_id: str
    decision_action_id: str
    action: str
    symbol: str | None
    status: str
    reason: str | None
    gate_results: list[GateResultOut]
    order_id: str | None
    fill_id: str | None
    created_at: datetime
    updated_at: datetime | None
    review: dict[str, Any] | None
    replayed: bool = False


class DecisionBatchOut(Wire):
    account_id: str
    decision_run_id: str
    actions: list[DecisionActionOut]


class ReviewIn(Wire):
    approve: bool
    reason: str = Field(min_length=1, max_length=2000)


# --- mark to market and admin ------------------------------------------------------------------


class MarkOut(Wire):
    account_id: str
    equity: Decimal
    marked: list[str]
    unpriced: list[str]
    persisted: bool
    liquidated: bool


class SweepOut(Wire):
    accounts: int
    persisted: int
    liquidated: int
    failed: list[str]


class RecomputeIn(Wire):
    apply: bool = False
    reason: str = Field(default="", max_length=2000)


class DriftOut(Wire):
    field: str
    stored: Any
    recomputed: Any


class RecomputeOut(Wire):
    account_id: str
    drift: list[DriftOut]
    applied: bool


class HealthOut(Wire):
    status: str
    database: str
    mark_to_market: HeartbeatOut


class ManualQuoteIn(Wire):
    symbol: str = Field(min_length=1, max_length=64)
    bid: PositiveDecimal
    ask: PositiveDecimal
    last: PositiveDecimal | None = None
    time: datetime | None = Field(default=None, description="defaults to now; must carry a time zone")
    reason: str = Field(min_length=1, max_length=2000)


class ManualQuoteOut(Wire):
    symbol: str
    time: datetime
    bid: Decimal
    ask: Decimal
    last: Decimal | None
    written: bool
