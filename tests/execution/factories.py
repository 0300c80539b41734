"""Builders for execution tests: account states made by the real kernel, quotes and gate lookups."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from propdesk.accounting.kernel import ApplyFill, ChangeStatus, ReserveForOrder, handle
from propdesk.accounting.state import AccountState, AccountStatus
from propdesk.execution.actions import ProposedAction
from propdesk.execution.policy.action_checks import check_action
from propdesk.execution.policy.codes import CheckCode
from propdesk.execution.policy.results import CheckReport, CheckResult
from propdesk.model.instruments import Instrument, equity
from propdesk.model.market import Quote
from propdesk.model.orders import ActionKind, Side
from propdesk.model.policy import ExecutionPolicy
from tests.factories import T0 as T0
from tests.factories import make_fill, started_account

NOW = T0 + timedelta(seconds=5)
SEED = ExecutionPolicy()
AAPL = equity("AAPL")


def started(cash: Decimal = Decimal(100_000), leverage: Decimal = Decimal(5)) -> AccountState:
    """An active seed account: 100,000 at 5x unless told otherwise."""
    return started_account(cash, leverage=leverage)


def filled(state: AccountState, instrument: Instrument, side: Side, qty: str, price: str) -> AccountState:
    """``state`` after a fee-free fill, applied by the kernel (fills bypass gates, as in a replay)."""
    fill = make_fill(instrument, side, qty, price, when=T0)
    return handle(state, ApplyFill(at=T0, fill=fill)).state


def reserved(state: AccountState, order_id: str, amount: str) -> AccountState:
    return handle(state, ReserveForOrder(at=T0, order_id=order_id, amount=Decimal(amount))).state


def with_status(state: AccountState, status: AccountStatus) -> AccountState:
    return handle(state, ChangeStatus(at=T0, to=status, reason="test")).state


def quote(symbol: str = "AAPL", bid: str = "99.99", ask: str = "100.01", at: datetime = T0) -> Quote:
    return Quote(symbol=symbol, time=at, bid=Decimal(bid), ask=Decimal(ask))


def action(
    kind: ActionKind,
    instrument: Instrument = AAPL,
    *,
    qty: str | None = None,
    notional: str | None = None,
    side: Side | None = None,
) -> ProposedAction:
    return ProposedAction(
        kind=kind,
        instrument=instrument,
        qty=None if qty is None else Decimal(qty),
        notional=None if notional is None else Decimal(notional),
        side=side,
    )


def check(
    proposed: ProposedAction,
    state: AccountState | None = None,
    *,
    policy: ExecutionPolicy = SEED,
    quote_: Quote | None = None,
    use_quote: bool = True,
    now: datetime = NOW,
    open_orders: int = 0,
) -> CheckReport:
    """Run the gates with seed defaults: a fresh 100k account and a 99.99/100.01 quote."""
    the_quote = (quote_ or quote(proposed.symbol)) if use_quote else None
    return check_action(
        proposed,
        state=state if state is not None else started(),
        policy=policy,
        quote=the_quote,
        now=now,
        open_orders=open_orders,
    )


def gate(report: CheckReport, code: CheckCode) -> CheckResult:
    (result,) = [r for r in report.results if r.code is code]
    return result


def failed_codes(report: CheckReport) -> list[CheckCode]:
    return [r.code for r in report.failures]
