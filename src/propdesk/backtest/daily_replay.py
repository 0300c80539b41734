"""Replay: the account kernel over bars in memory, with no database writes.

Each trading day, in time order: the day's anchors are set, the corporate actions whose ex-date
it is are applied (the same kernel commands the daily job issues), positions are marked at quotes
derived from the day's bars, a drawdown breach liquidates the account, then the strategy's
proposals go through the same gates, fill model and kernel as the live service.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Protocol

from propdesk.accounting.events import Event, FillApplied
from propdesk.accounting.kernel import Command, Decision, MarkToPrices, Start, StartTradingDay, handle
from propdesk.accounting.state import AccountState
from propdesk.backtest.strategies import Proposal
from propdesk.execution.actions import ProposedAction
from propdesk.execution.pipeline import breaches_drawdown, execute_market_action, liquidate
from propdesk.model.fills import Fill
from propdesk.model.ids import AccountId
from propdesk.model.instruments import Instrument
from propdesk.model.market import Bar, Quote, quote_from_bar
from propdesk.model.policy import ExecutionPolicy
from propdesk.store.corporate_actions import CorporateAction

# Daily bars are known at the close; their quotes are stamped at 16:00 in the bar's zone.
SESSION_CLOSE = time(16, 0)


class Strategy(Protocol):
    def on_close(self, symbol: str, close: Decimal, position_qty: Decimal) -> list[Proposal]: ...


@dataclass
class ReplayResult:
    state: AccountState
    events: list[Event] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    equity_path: list[tuple[date, Decimal]] = field(default_factory=list)
    rejections: Counter[str] = field(default_factory=Counter)
    liquidated_on: date | None = None


@dataclass
class _Run:
    policy: ExecutionPolicy
    instruments: Mapping[str, Instrument]
    result: ReplayResult
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def new_id(self) -> str:
        return f"replay-{next(self.ids)}"

    def apply(self, command: Command) -> None:
        self.record(handle(self.result.state, command))

    def record(self, decision: Decision) -> None:
        self.result.state = decision.state
        self.result.events.extend(decision.events)
        self.result.fills.extend(e.fill for e in decision.events if isinstance(e, FillApplied))


def replay_daily(
    bars: Mapping[str, Sequence[Bar]],
    *,
    instruments: Mapping[str, Instrument],
    policy: ExecutionPolicy,
    strategy: Strategy,
    account_id: str = "replay",
    corporate_actions: Sequence[CorporateAction] = (),
) -> ReplayResult:
    """Run ``strategy`` over daily ``bars`` (per symbol) for a new account under ``policy``.

    ``corporate_actions`` are applied on their ex-dates before that day's marks, as the daily job
    does; the bars must then be as traded (not split-adjusted) before each split's ex-date.
    """
    actions_by_day: dict[date, list[CorporateAction]] = {}
    for action in corporate_actions:
        actions_by_day.setdefault(action.ex_date, []).append(action)
    by_day: dict[date, list[Bar]] = {}
    for symbol_bars in bars.values():
        for bar in symbol_bars:
            by_day.setdefault(bar.start.date(), []).append(bar)
    days = sorted(by_day)
    if not days:
        raise ValueError("no bars to replay")
    first = datetime.combine(days[0], SESSION_CLOSE, by_day[days[0]][0].start.tzinfo)
    run = _Run(policy, instruments, ReplayResult(AccountState(account_id=AccountId(account_id))))
    run.apply(
        Start(
            at=first,
            starting_cash=policy.starting_balance,
            currency=policy.currency,
            leverage=policy.max_leverage,
        )
    )
    quotes: dict[str, Quote] = {}
    for day in days:
        day_bars = sorted(by_day[day], key=lambda b: b.symbol)
        now = datetime.combine(day, SESSION_CLOSE, day_bars[0].start.tzinfo)
        for bar in day_bars:
            quotes[bar.symbol] = quote_from_bar(bar, instruments[bar.symbol].tick_size, now)
        run.apply(StartTradingDay(at=now, trading_day=day))
        for action in actions_by_day.get(day, ()):
            instrument = instruments.get(action.symbol)
            whole = instrument is not None and not getattr(instrument, "fractionable", True)
            run.apply(action.command(now, whole_shares=whole))
        held = {s: quotes[s].mark for s in run.result.state.positions if s in quotes}
        if held:
            run.apply(MarkToPrices(at=now, prices=held))
        if breaches_drawdown(run.result.state, policy):
            decision = liquidate(
                run.result.state,
                policy=policy,
                instruments=instruments,
                quotes=quotes,
                now=now,
                new_id=run.new_id,
                reason=f"equity at or below {policy.liquidation_equity}",
            )
            run.record(decision)
            run.result.liquidated_on = day
            run.result.equity_path.append((day, run.result.state.equity))
            break
        for bar in day_bars:
            _trade(run, bar, quotes[bar.symbol], now, strategy)
        run.result.equity_path.append((day, run.result.state.equity))
    return run.result


def _trade(run: _Run, bar: Bar, quote: Quote, now: datetime, strategy: Strategy) -> None:
    position = run.result.state.positions.get(bar.symbol)
    for proposal in strategy.on_close(bar.symbol, bar.close, position.qty if position else Decimal(0)):
        action = ProposedAction(
            proposal.action, run.instruments[bar.symbol], qty=proposal.qty, notional=proposal.notional
        )
        outcome = execute_market_action(
            action,
            state=run.result.state,
            policy=run.policy,
            quote=quote,
            now=now,
            open_orders=0,
            fill_id=run.new_id(),
        )
        if outcome.decision is None:
            run.result.rejections.update(str(g.code) for g in outcome.report.failures)
            continue
        run.record(outcome.decision)
