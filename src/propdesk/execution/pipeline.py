"""From a proposed action to applied fills: gates, pricing and the kernel in one pure step.

The live service and the in-memory replay both execute market actions through these functions,
so a backtest fills exactly as the service would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from propdesk.accounting.kernel import ApplyFill, Decision, Liquidate, handle
from propdesk.accounting.state import AccountState
from propdesk.execution.actions import ProposedAction
from propdesk.execution.fees import fee_model_for
from propdesk.execution.fill_models import build_fill, fill_model_for
from propdesk.execution.policy.action_checks import check_action
from propdesk.execution.policy.results import CheckReport
from propdesk.model.fills import Fill
from propdesk.model.instruments import Instrument
from propdesk.model.market import Quote
from propdesk.model.orders import Side
from propdesk.model.policy import ExecutionPolicy


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """The gate report and, when every gate passed, the fill and the kernel's decision."""

    report: CheckReport
    fill: Fill | None
    decision: Decision | None

    @property
    def state_after(self) -> AccountState | None:
        return self.decision.state if self.decision else None


def execute_market_action(
    action: ProposedAction,
    *,
    state: AccountState,
    policy: ExecutionPolicy,
    quote: Quote | None,
    now: datetime,
    open_orders: int,
    fill_id: str,
    order_id: str | None = None,
) -> ActionOutcome:
    """Check ``action`` against every gate and, if all pass, fill it at the approved price."""
    report = check_action(action, state=state, policy=policy, quote=quote, now=now, open_orders=open_orders)
    if not report.passed or report.order is None or report.fill is None or report.fee is None:
        return ActionOutcome(report, None, None)
    order = report.order
    fill = build_fill(
        fill_id, order_id, order.instrument, order.side, order.qty, report.fill, report.fee, now
    )
    return ActionOutcome(report, fill, handle(state, ApplyFill(at=now, fill=fill)))


class MissingQuoteError(LookupError):
    """A position cannot be closed because its symbol has no quote; the engine never guesses."""


def breaches_drawdown(state: AccountState, policy: ExecutionPolicy) -> bool:
    """Whether equity has fallen to the policy's auto-liquidation level (default 50% of start)."""
    return state.status.is_open and state.equity <= policy.liquidation_equity


def liquidation_fills(
    state: AccountState,
    *,
    policy: ExecutionPolicy,
    instruments: Mapping[str, Instrument],
    quotes: Mapping[str, Quote],
    now: datetime,
    new_id: Callable[[], str],
) -> list[Fill]:
    """Fills that close every open position at the account's fill model, in symbol order."""
    model = fill_model_for(policy)
    fills: list[Fill] = []
    for symbol, position in sorted(state.positions.items()):
        quote = quotes.get(symbol)
        if quote is None:
            raise MissingQuoteError(f"no quote to liquidate {symbol}")
        instrument = instruments[symbol]
        order_side = Side.BUY if position.qty < 0 else Side.SELL
        qty = abs(position.qty)
        priced = model.price(order_side, qty, quote, instrument)
        fee = fee_model_for(policy, instrument).fee(qty, priced.price, instrument)
        fills.append(build_fill(new_id(), None, instrument, order_side, qty, priced, fee, now))
    return fills


def liquidate(
    state: AccountState,
    *,
    policy: ExecutionPolicy,
    instruments: Mapping[str, Instrument],
    quotes: Mapping[str, Quote],
    now: datetime,
    new_id: Callable[[], str],
    reason: str,
) -> Decision:
    """Close everything at current prices and end the account as liquidated."""
    fills = liquidation_fills(
        state, policy=policy, instruments=instruments, quotes=quotes, now=now, new_id=new_id
    )
    return handle(state, Liquidate(at=now, fills=fills, reason=reason))
