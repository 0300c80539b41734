"""An account's equity over time as Alpaca's portfolio history shows it.

It reads the ledger, the account's only truth, in one read-only unit of work:
 folds the ledger once with the kernel's ``evolve`` and samples the equity
(cash plus positions at the last marks known) at each reporting time: for ``1D`` the close of
every NYSE session (labelled 00:00 New York time of its day, as Alpaca's daily bars), for the
intraday timeframes every step from the open to the close, the close included (04:00–20:00 with
extended hours, a plain 24/7 grid when ``continuous``). Points before the account was funded are
left out rather than shown as zero. P/L is measured from ``base_value``: the equity at the close
of the session before the first point or, for an account that did not exist then, the balance it
was funded with. Intraday P/L restarts each trading day from the previous close unless
``pnl_reset=no_reset``. Money is exact ``Decimal`` here; the API turns it into JSON numbers.

For ``1D`` a session close that has an end-of-day snapshot (``services.daily.snapshots``) shows
the snapshot's equity, which was repriced to the closing quotes; the other closes show the ledger's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import assert_never

from propdesk.accounting.events import (
    AccountCreated,
    AccountLiquidated,
    AccountReset,
    AccountStarted,
    CashAdjusted,
    DividendPaid,
    Event,
    FillApplied,
    FillVoided,
    FundsReserved,
    IncidentRecorded,
    OptionSettled,
    PositionsMarked,
    ReservationReleased,
    SplitApplied,
    StatusChanged,
    SymbolChanged,
    TradingDayStarted,
)
from propdesk.accounting.kernel import evolve
from propdesk.accounting.state import AccountState
from propdesk.model.ids import AccountId
from propdesk.model.numbers import ZERO
from propdesk.services.alpaca.history_plan import HistoryQuery, Timeframe, plan_history
from propdesk.services.alpaca.market_hours import nyse
from propdesk.services.context import ServiceContext
from propdesk.store.ledger import LedgerRow
from propdesk.store.snapshots import SnapshotRepository
from propdesk.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class PortfolioHistory:
    timestamps: list[datetime]
    equity: list[Decimal]
    profit_loss: list[Decimal]
    profit_loss_pct: list[Decimal | None]
    base_value: Decimal
    base_value_asof: date | None
    timeframe: Timeframe
    cashflow: dict[str, list[Decimal]]


@dataclass(slots=True)
class _Sample:
    equity: Decimal
    funded: bool
    flows: dict[str, Decimal]
    # Σ cash a reset added (or took) so far: not a trading result, so not profit or loss.
    reset_cash: Decimal = ZERO


def _flows(event: Event, wanted: frozenset[str]) -> Iterable[tuple[str, Decimal]]:
    """The cash flows (Alpaca's activity kinds) one ledger event carries, of the ``wanted`` kinds."""
    match event:
        case AccountStarted():
            if "CSD" in wanted:
                yield "CSD", event.cash_delta
        case FillApplied():
            if "FEE" in wanted and event.fill.fee:
                yield "FEE", -event.fill.fee
        case CashAdjusted():
            if "JNLC" in wanted:
                yield "JNLC", event.cash_delta
        case AccountReset():
            if "JNLC" in wanted:
                yield "JNLC", event.equity_delta  # archived positions leave equity with the reset
        case (
            AccountCreated()
            | PositionsMarked()
            | FundsReserved()
            | ReservationReleased()
            | StatusChanged()
            | TradingDayStarted()
            | AccountLiquidated()
            | FillVoided()
            | IncidentRecorded()
            | OptionSettled()
            | DividendPaid()
            | SplitApplied()
            | SymbolChanged()
        ):
            # Not a cash flow of these kinds: marks, reservations, status, incidents and the
            # liquidation record move no cash themselves (its fills do), and a voided fill's
            # correction (fee refund included) is deliberately not reported as a flow. A dividend is
            # income (it counts in P/L like a fill's gain); a split's cash in lieu is a sale.
            pass
        case _:
            assert_never(event)


@dataclass(slots=True)
class _Funding:
    at: datetime | None = None
    amount: Decimal = ZERO


def _walk(
    account_id: AccountId, rows: Sequence[LedgerRow], moments: Sequence[datetime], cashflow: frozenset[str]
) -> tuple[dict[datetime, _Sample], _Funding]:
    """One fold over the ledger, sampling the state at each of ``moments`` (ascending): the
    equity after every event up to the first one recorded later than the moment."""
    state = AccountState(account_id=account_id)
    funding = _Funding()
    flows: dict[str, Decimal] = {}
    samples: dict[datetime, _Sample] = {}
    reset_cash = ZERO
    index = 0
    for moment in moments:
        while index < len(rows) and rows[index].at <= moment:
            event = rows[index].to_event()
            state = evolve(state, event)
            if isinstance(event, AccountStarted) and funding.at is None:
                funding = _Funding(event.at, event.cash_delta)
            if isinstance(event, AccountReset):
                reset_cash += event.equity_delta
            for kind, amount in _flows(event, cashflow):
                flows[kind] = flows.get(kind, ZERO) + amount
            index += 1
        samples[moment] = _Sample(state.equity, funding.at is not None, dict(flows), reset_cash)
    return samples, funding


def _snapshot_equity(
    uow: UnitOfWork, account_id: AccountId, moments: Sequence[datetime]
) -> dict[datetime, Decimal]:
    """The end-of-day snapshots' equity at those of ``moments`` that are a snapshotted close: a
    daily history shows the closing equity the snapshot recorded (repriced to the closing quotes)
    where one exists, and the ledger's last marks elsewhere."""
    if not moments:
        return {}
    zone = nyse().zone
    first, last = (m.astimezone(zone).date() for m in (moments[0], moments[-1]))
    wanted = set(moments)
    return {
        s.as_of: s.equity
        for s in SnapshotRepository(uow.connection).between(account_id, first, last)
        if s.as_of in wanted
    }


def portfolio_history(ctx: ServiceContext, account_id: AccountId, query: HistoryQuery) -> PortfolioHistory:
    """The account's equity over time, as Alpaca's ``GET /v2/account/portfolio/history``."""
    now = ctx.clock()
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        account = uow.accounts.get(account_id)
        plan = plan_history(query, now, account.created_at.astimezone(nyse().zone).date())
        rows = uow.accounts.ledger_through(account_id, plan.end)
        moments = sorted({plan.base_at, *(p.at for p in plan.points), *(p.base_at for p in plan.points)})
        closes = _snapshot_equity(uow, account_id, moments) if plan.timeframe is Timeframe.DAY1 else {}
    samples, funding = _walk(account_id, rows, moments, plan.cashflow_types)
    for moment, value in closes.items():
        if samples[moment].funded:
            samples[moment].equity = value
    zone = nyse().zone

    def base(moment: datetime) -> tuple[Decimal, date | None]:
        sample = samples[moment]
        if sample.funded:
            return sample.equity, moment.astimezone(zone).date()
        asof = None if funding.at is None else funding.at.astimezone(zone).date()
        return funding.amount, asof

    base_value, base_asof = base(plan.base_at)
    shown = [p for p in plan.points if samples[p.at].funded]
    equity = [samples[p.at].equity for p in shown]
    per_day = plan.per_day and plan.timeframe is not Timeframe.DAY1
    bases = [base(p.base_at)[0] if per_day else base_value for p in shown]
    # A reset's top-up is money put in, not earned: P/L after a reset counts from the new start.
    topped_up = [
        samples[p.at].reset_cash - samples[p.base_at if per_day else plan.base_at].reset_cash for p in shown
    ]
    profit_loss = [
        value - basis - top_up for value, basis, top_up in zip(equity, bases, topped_up, strict=True)
    ]
    pct = [pl / basis if basis else None for pl, basis in zip(profit_loss, bases, strict=True)]
    cashflow: dict[str, list[Decimal]] = {}
    previous = samples[plan.base_at].flows
    for point in shown:
        totals = samples[point.at].flows
        for kind in plan.cashflow_types:
            cashflow.setdefault(kind, []).append(totals.get(kind, ZERO) - previous.get(kind, ZERO))
        previous = totals
    return PortfolioHistory(
        timestamps=[p.label for p in shown],
        equity=equity,
        profit_loss=profit_loss,
        profit_loss_pct=pct,
        base_value=base_value,
        base_value_asof=base_asof,
        timeframe=plan.timeframe,
        cashflow=cashflow,
    )
