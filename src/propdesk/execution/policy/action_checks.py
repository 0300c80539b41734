"""The seed execution policy's checks on a decision action, all reported at once.

:func:`check_action` evaluates every check in :data:`~propdesk.execution.policy.codes.ACTION_CHECKS` and never
stops at the first failure, so a client learns everything wrong with an action in one round
trip, and an auditor sees what was measured even for the gates that passed.

Semantics:

* Limit gates fail iff ``value > limit``; ``value`` is what the order *would* make the measured
  figure (order notional, leverage after the order, open positions/orders counting this one), so an
  API can say "max_order_notional: 60000 > 50000".
* Notionals are measured at the estimated execution price of the account's fill model (the price
  the fill would get), and include the instrument's multiplier.
* Exposure gates (direction, notional, leverage, position-to-equity, buying power, open positions,
  open orders) apply only to exposure-adding actions (open_long, open_short, increase): reducing
  risk is never blocked by a limit. reduce and close still need an active account, an allowed
  asset, a fresh price and an open position.
* A gate that does not apply, or that cannot measure because an input is missing, is reported as
  passed with ``applicable=False`` and says why. That never lets an action through by itself: an
  input is missing only when another gate (price_missing, invalid_quantity, no_position, …) fails.
* Leverage and ratio gates divide by equity; when equity is not positive the ratio is undefined,
  so an exposure-adding action fails them with ``value=None`` and says so.
* A price is missing when there is no quote, the quote is for another symbol, its mark is not
  positive, or the fill model's execution price is not positive: the engine never guesses. A
  quote is stale when ``now − quote.time`` exceeds ``max_quote_age_seconds`` (exactly the maximum
  age is still fresh; a quote stamped after ``now`` counts as fresh, tolerating clock skew).
* Margin for buying power uses the account's own margin model (``state.leverage``, the same one
  that computes ``available_capital``) plus the estimated fee.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from propdesk.accounting.positions import Position
from propdesk.accounting.state import AccountState, AccountStatus
from propdesk.execution.actions import Problem, ProposedAction, ResolvedOrder, resolve_action, resolve_side
from propdesk.execution.fees import fee_model_for
from propdesk.execution.fill_models import PricedFill, fill_model_for
from propdesk.execution.policy.codes import ACTION_CHECKS, CheckCode, CheckValue
from propdesk.execution.policy.results import CheckReport, CheckResult, failed_checks
from propdesk.model.instruments import (
    AssetClass,
    Equity,
    InvalidSymbolError,
    expired_contract_problem,
    option,
)
from propdesk.model.market import Quote
from propdesk.model.numbers import ZERO
from propdesk.model.orders import Direction, Side
from propdesk.model.policy import ExecutionPolicy


@dataclass(frozen=True, slots=True)
class _Priced:
    """The resolved order with its estimated execution: what the exposure gates measure."""

    order: ResolvedOrder
    fill: PricedFill
    fee: Decimal
    notional: Decimal


@dataclass(frozen=True, slots=True)
class _Context:
    action: ProposedAction
    state: AccountState
    policy: ExecutionPolicy
    quote: Quote | None
    now: datetime
    open_orders: int
    position: Position | None
    side: Side | None
    price_problem: str | None
    problems: dict[CheckCode, Problem]
    priced: _Priced | None


def _show(value: Decimal) -> str:
    """A readable number for messages (values themselves stay exact)."""
    if value.adjusted() > 15:  # too large to quantize within the context precision
        return format(value, "f")
    return format(value.quantize(Decimal("0.000001")).normalize(), "f")


def _ok(gate: CheckCode, message: str, value: CheckValue = None, limit: CheckValue = None) -> CheckResult:
    return CheckResult(gate, True, value, limit, message)


def _skip(gate: CheckCode, why: str) -> CheckResult:
    return CheckResult(gate, True, None, None, why, applicable=False)


def _fail(gate: CheckCode, message: str, value: CheckValue = None, limit: CheckValue = None) -> CheckResult:
    return CheckResult(gate, False, value, limit, message)


def _limit(gate: CheckCode, what: str, value: Decimal | int, limit: Decimal | int) -> CheckResult:
    shown = f"{what} {_show(Decimal(value))} {'>' if value > limit else '<='} limit {_show(Decimal(limit))}"
    return _fail(gate, shown, value, limit) if value > limit else _ok(gate, shown, value, limit)


# --- context ---------------------------------------------------------------------------------------


def _quote_problem(action: ProposedAction, quote: Quote | None) -> str | None:
    if quote is None:
        return f"no quote for {action.symbol}"
    if quote.symbol != action.symbol:
        return f"quote is for {quote.symbol}, not {action.symbol}"
    if quote.mark <= 0:
        return f"{action.symbol} mark {quote.mark} is not a usable price"
    return None


def _context(
    action: ProposedAction,
    state: AccountState,
    policy: ExecutionPolicy,
    quote: Quote | None,
    now: datetime,
    open_orders: int,
) -> _Context:
    instrument = action.instrument
    position = state.positions.get(action.symbol)
    side = resolve_side(action.kind, position)
    model = fill_model_for(policy)
    price_problem = _quote_problem(action, quote)
    sizing_price: Decimal | None = None
    if price_problem is None and quote is not None:
        sizing_price = quote.mark
        if side is not None:
            probe = action.qty if action.qty is not None and action.qty > 0 else instrument.lot_size
            sizing_price = model.price(side, probe, quote, instrument).price
            if sizing_price <= 0:
                price_problem = f"execution price {sizing_price} of {action.symbol} is not positive"
                sizing_price = None
    resolution = resolve_action(action, position, sizing_price)
    problems = {p.code: p for p in reversed(resolution.problems)}  # the first problem per code wins
    priced = None
    order = resolution.order
    if order is not None and price_problem is None and quote is not None:
        fill = model.price(order.side, order.qty, quote, instrument)
        fee = fee_model_for(policy, instrument).fee(order.qty, fill.price, instrument)
        priced = _Priced(order, fill, fee, instrument.notional(order.qty, fill.price))
    return _Context(
        action=action,
        state=state,
        policy=policy,
        quote=quote,
        now=now,
        open_orders=open_orders,
        position=position,
        side=side,
        price_problem=price_problem,
        problems=problems,
        priced=priced,
    )


# --- gates -----------------------------------------------------------------------------------------


def _from_problem(gate: CheckCode) -> Callable[[_Context], CheckResult]:
    def check(ctx: _Context) -> CheckResult:
        if not ctx.action.kind.is_supported and gate is not CheckCode.UNSUPPORTED_ACTION:
            return _skip(gate, f"not evaluated: {ctx.action.kind.value} is not executable")
        problem = ctx.problems.get(gate)
        if problem is not None:
            return _fail(gate, problem.message, problem.value, problem.limit)
        return _ok(gate, "passed")

    return check


def _account_inactive(ctx: _Context) -> CheckResult:
    status = ctx.state.status
    message = f"account {ctx.state.account_id} is {status.value}"
    if status is AccountStatus.ACTIVE:
        return _ok(CheckCode.ACCOUNT_INACTIVE, message, status.value, AccountStatus.ACTIVE.value)
    return _fail(CheckCode.ACCOUNT_INACTIVE, message, status.value, AccountStatus.ACTIVE.value)


def _asset_not_allowed(ctx: _Context) -> CheckResult:
    gate, instrument, policy = CheckCode.ASSET_NOT_ALLOWED, ctx.action.instrument, ctx.policy
    allowed_classes = ",".join(sorted(c.value for c in policy.allowed_asset_classes))
    if instrument.asset_class not in policy.allowed_asset_classes:
        message = f"{instrument.asset_class.value} is not an allowed asset class ({allowed_classes})"
        return _fail(gate, message, instrument.asset_class.value, allowed_classes)
    if policy.allowed_symbols is not None and instrument.symbol not in policy.allowed_symbols:
        allowed_symbols = ",".join(sorted(policy.allowed_symbols))
        return _fail(
            gate, f"{instrument.symbol} is not an allowed symbol", instrument.symbol, allowed_symbols
        )
    return _ok(gate, f"{instrument.symbol} ({instrument.asset_class.value}) is allowed", instrument.symbol)


def _contract_expired(ctx: _Context) -> CheckResult:
    gate, instrument = CheckCode.CONTRACT_EXPIRED, ctx.action.instrument
    if instrument.asset_class is not AssetClass.US_OPTION:
        return _ok(gate, f"{instrument.symbol} does not expire")
    try:
        contract = option(instrument.symbol)
    except InvalidSymbolError:
        return _skip(gate, f"{instrument.symbol} is not an OCC option symbol")
    problem = expired_contract_problem(contract, ctx.now, ctx.position.qty if ctx.position else None)
    if problem is not None:
        return _fail(gate, problem, contract.expires_at.isoformat())
    return _ok(gate, f"{contract.symbol} expires at {contract.expires_at.isoformat()}")


def _price_missing(ctx: _Context) -> CheckResult:
    gate = CheckCode.PRICE_MISSING
    if not ctx.action.kind.is_supported:
        return _skip(gate, f"not evaluated: {ctx.action.kind.value} is not executable")
    if ctx.price_problem is not None:
        return _fail(gate, ctx.price_problem)
    problem = ctx.problems.get(gate)
    if problem is not None:
        return _fail(gate, problem.message, problem.value, problem.limit)
    mark = ctx.quote.mark if ctx.quote is not None else None
    return _ok(gate, f"mark {mark}", mark)


def _seconds(delta: timedelta) -> Decimal:
    # Exact: timedelta.total_seconds() is a float.
    return Decimal(delta.days * 86_400 + delta.seconds) + Decimal(delta.microseconds) / 1_000_000


def _price_stale(ctx: _Context) -> CheckResult:
    gate = CheckCode.PRICE_STALE
    if not ctx.action.kind.is_supported:
        return _skip(gate, f"not evaluated: {ctx.action.kind.value} is not executable")
    if ctx.quote is None:
        return _skip(gate, "not evaluated: no quote")
    age = _seconds(ctx.quote.age(ctx.now))
    return _limit(gate, "quote age (s)", age, ctx.policy.max_quote_age_seconds)


def _exposure_skip(ctx: _Context, gate: CheckCode) -> CheckResult | None:
    """Why an exposure gate does not apply to this action, or None when it does."""
    kind = ctx.action.kind
    if not kind.is_supported:
        return _skip(gate, f"not evaluated: {kind.value} is not executable")
    if not kind.adds_exposure:
        return _skip(gate, f"not applicable: {kind.value} does not add exposure")
    return None


def _priced_or_skip(ctx: _Context, gate: CheckCode) -> _Priced | CheckResult:
    """The priced order an exposure gate measures, or the skipped result when there is none."""
    skipped = _exposure_skip(ctx, gate)
    if skipped is not None:
        return skipped
    if ctx.priced is None:
        return _skip(gate, "not evaluated: the order could not be resolved and priced")
    return ctx.priced


def _direction_not_allowed(ctx: _Context) -> CheckResult:
    gate = CheckCode.DIRECTION_NOT_ALLOWED
    skipped = _exposure_skip(ctx, gate)
    if skipped is not None:
        return skipped
    if ctx.side is None:
        return _skip(gate, "not evaluated: no position to take the direction from")
    direction = Direction.LONG if ctx.side is Side.BUY else Direction.SHORT
    allowed = ",".join(sorted(d.value for d in ctx.policy.allowed_directions))
    instrument = ctx.action.instrument
    if direction not in ctx.policy.allowed_directions:
        return _fail(
            gate, f"{direction.value} positions are not allowed ({allowed})", direction.value, allowed
        )
    if direction is Direction.SHORT and isinstance(instrument, Equity) and not instrument.shortable:
        return _fail(gate, f"{instrument.symbol} is not shortable", direction.value, Direction.LONG.value)
    return _ok(gate, f"{direction.value} is allowed", direction.value, allowed)


def _max_order_notional(ctx: _Context) -> CheckResult:
    gate = CheckCode.MAX_ORDER_NOTIONAL
    priced = _priced_or_skip(ctx, gate)
    if isinstance(priced, CheckResult):
        return priced
    return _limit(gate, "order notional", priced.notional, ctx.policy.max_order_notional)


def _ratio(ctx: _Context, gate: CheckCode, what: str, numerator: Decimal, limit: Decimal) -> CheckResult:
    equity = ctx.state.equity
    if equity <= 0:
        return _fail(gate, f"{what} is unbounded: equity {equity} is not positive", None, limit)
    return _limit(gate, what, numerator / equity, limit)


def _max_order_leverage(ctx: _Context) -> CheckResult:
    gate = CheckCode.MAX_ORDER_LEVERAGE
    priced = _priced_or_skip(ctx, gate)
    if isinstance(priced, CheckResult):
        return priced
    return _ratio(ctx, gate, "order notional / equity", priced.notional, ctx.policy.max_leverage)


def _max_aggregate_leverage(ctx: _Context) -> CheckResult:
    gate = CheckCode.MAX_AGGREGATE_LEVERAGE
    priced = _priced_or_skip(ctx, gate)
    if isinstance(priced, CheckResult):
        return priced
    gross = ctx.state.gross_exposure + priced.notional
    return _ratio(ctx, gate, "(gross exposure + order) / equity", gross, ctx.policy.max_leverage)


def _max_position_to_equity(ctx: _Context) -> CheckResult:
    gate = CheckCode.MAX_POSITION_TO_EQUITY
    priced = _priced_or_skip(ctx, gate)
    if isinstance(priced, CheckResult):
        return priced
    held = ctx.position.qty if ctx.position is not None else ZERO
    after = ctx.action.instrument.notional(held + priced.order.signed_qty, priced.fill.price)
    return _ratio(ctx, gate, "position notional / equity", after, ctx.policy.max_position_equity_ratio)


def _insufficient_buying_power(ctx: _Context) -> CheckResult:
    gate = CheckCode.INSUFFICIENT_BUYING_POWER
    priced = _priced_or_skip(ctx, gate)
    if isinstance(priced, CheckResult):
        return priced
    margin = priced.notional / ctx.state.leverage + priced.fee
    return _limit(gate, "margin + fee", margin, ctx.state.available_capital)


def _max_open_positions(ctx: _Context) -> CheckResult:
    gate = CheckCode.MAX_OPEN_POSITIONS
    skipped = _exposure_skip(ctx, gate)
    if skipped is not None:
        return skipped
    count = len(ctx.state.positions)
    if ctx.position is not None:
        return _ok(gate, f"adds to an open position ({count} open)", count, ctx.policy.max_open_positions)
    return _limit(gate, "open positions", count + 1, ctx.policy.max_open_positions)


def _max_open_orders(ctx: _Context) -> CheckResult:
    gate = CheckCode.MAX_OPEN_ORDERS
    skipped = _exposure_skip(ctx, gate)
    if skipped is not None:
        return skipped
    return _limit(gate, "open orders", ctx.open_orders + 1, ctx.policy.max_open_orders)


_CHECKS: dict[CheckCode, Callable[[_Context], CheckResult]] = {
    CheckCode.UNSUPPORTED_ACTION: _from_problem(CheckCode.UNSUPPORTED_ACTION),
    CheckCode.ACCOUNT_INACTIVE: _account_inactive,
    CheckCode.ASSET_NOT_ALLOWED: _asset_not_allowed,
    CheckCode.CONTRACT_EXPIRED: _contract_expired,
    CheckCode.NO_POSITION: _from_problem(CheckCode.NO_POSITION),
    CheckCode.OPPOSITE_POSITION: _from_problem(CheckCode.OPPOSITE_POSITION),
    CheckCode.SIDE_MISMATCH: _from_problem(CheckCode.SIDE_MISMATCH),
    CheckCode.INVALID_QUANTITY: _from_problem(CheckCode.INVALID_QUANTITY),
    CheckCode.REDUCE_EXCEEDS_POSITION: _from_problem(CheckCode.REDUCE_EXCEEDS_POSITION),
    CheckCode.PRICE_MISSING: _price_missing,
    CheckCode.PRICE_STALE: _price_stale,
    CheckCode.DIRECTION_NOT_ALLOWED: _direction_not_allowed,
    CheckCode.MAX_ORDER_NOTIONAL: _max_order_notional,
    CheckCode.MAX_ORDER_LEVERAGE: _max_order_leverage,
    CheckCode.MAX_AGGREGATE_LEVERAGE: _max_aggregate_leverage,
    CheckCode.MAX_POSITION_TO_EQUITY: _max_position_to_equity,
    CheckCode.INSUFFICIENT_BUYING_POWER: _insufficient_buying_power,
    CheckCode.MAX_OPEN_POSITIONS: _max_open_positions,
    CheckCode.MAX_OPEN_ORDERS: _max_open_orders,
}


# --- entry points ----------------------------------------------------------------------------------


def check_action(
    action: ProposedAction,
    *,
    state: AccountState,
    policy: ExecutionPolicy,
    quote: Quote | None,
    now: datetime,
    open_orders: int,
) -> CheckReport:
    """Run every gate on ``action``; the report carries the priced order when all of them pass.

    ``quote`` is the latest quote for the action's symbol (None when there is none), ``now`` the
    injected clock's time and ``open_orders`` the number of the account's resting orders.
    """
    ctx = _context(action, state, policy, quote, now, open_orders)
    results = tuple(_CHECKS[gate](ctx) for gate in ACTION_CHECKS)
    priced = ctx.priced if not failed_checks(results) else None
    return CheckReport(
        results=results,
        order=priced.order if priced else None,
        fill=priced.fill if priced else None,
        fee=priced.fee if priced else None,
        adds_exposure=action.kind.adds_exposure,
    )


def evaluate_checks(
    action: ProposedAction,
    *,
    state: AccountState,
    policy: ExecutionPolicy,
    quote: Quote | None,
    now: datetime,
    open_orders: int,
) -> list[CheckResult]:
    """Every gate's result for ``action``, in :data:`ACTION_CHECKS`; see :func:`check_action`."""
    report = check_action(action, state=state, policy=policy, quote=quote, now=now, open_orders=open_orders)
    return list(report.results)
