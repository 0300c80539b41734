"""Option expiry: after the close of an expiry date, every option position expiring that day
leaves the book, exercised, assigned or worthless, as the OCC settles it.

Per contract (100 shares each): a long in the money by at least $0.01 is exercised (a call buys
the underlying at the strike, a put sells it), a short in the money is assigned (a call sells,
a put buys); anything else, out of the money or in it by less than a cent, expires at 0.
Moneyness is judged against the underlying's official close on the expiry day: the stored daily
bar's close for that date, else the last trade stored by the close, else the quote mid at the
close. Cash-settled index options (``model.instruments.CASH_SETTLED_ROOTS``) settle in cash at
their intrinsic value against the settlement value: the standard monthlies in
``AM_SETTLED_ROOTS`` by the opening print of the expiry day (the daily bar's open, else the first
trade, else the first quote mid after the open), the weeklies (SPXW ...) by the close as above.

Each account is settled in one locked transaction (:func:`propdesk.services.transactions.account_tx`):
the fills (built by :func:`propdesk.services.orders.exercise.settlement_fills`, the manual
exercise's own fill logic) and an :class:`~propdesk.accounting.events.OptionSettled` per
contract go through the kernel (``SettleOption``), after the open orders on the contract are
canceled, so the ledger, positions, cash, activities
(``OPEXC``, ``OPASN``, ``OPEXP``) and rule state all see them. Fill ids derive from account,
contract and date, and a settled position is gone, so a second run adds nothing and a run that
stopped part-way resumes with the accounts not yet done.

An exercise or assignment is booked even if it leaves the account short of buying power (a
broker delivers regardless); the account is then subject to its usual margin and liquidation
rules (the mark-to-market sweep).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import count

from propdesk.accounting.events import Event, OptionSettled
from propdesk.accounting.kernel import CommandRejected, SettleOption, handle
from propdesk.accounting.positions import Position
from propdesk.marketdata.calendars import nyse
from propdesk.model.ids import AccountId
from propdesk.model.instruments import (
    AM_SETTLED_ROOTS,
    OPTION_EXPIRY_ZONE,
    AssetClass,
    InvalidSymbolError,
    Option,
    OptionRight,
    Settlement,
    option,
)
from propdesk.model.market import Quote
from propdesk.model.numbers import ZERO
from propdesk.services.accounts import rules
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Invalid, ServiceError
from propdesk.services.market.assets import underlying_of
from propdesk.services.orders import commands as orders
from propdesk.services.orders.exercise import settlement_fills
from propdesk.services.transactions import account_tx
from propdesk.store.errors import AccountNotFound
from propdesk.store.uow import UnitOfWork

log = logging.getLogger(__name__)

# Options stop trading at the close; the job runs a quarter of an hour later.
AFTER_CLOSE = timedelta(minutes=15)
DEFAULT_CUTOFF = time(16, 15)
# A long is exercised (a short assigned) when in the money by at least this much.
EXERCISE_THRESHOLD = Decimal("0.01")
_NAMESPACE = uuid.UUID("6f1d2c1e-4d0b-4f53-9a3e-1d5b7f0e0c17")
DAILY = "1Day"


class Action:
    EXERCISE = "exercise"
    ASSIGNMENT = "assignment"
    EXPIRY = "expiry"


@dataclass(frozen=True, slots=True)
class SettlementPrice:
    """The underlying's value a contract is settled against, and where it came from."""

    price: Decimal
    source: (
        str  # daily_bar_close | last_trade | quote_mid | daily_bar_open | opening_trade | opening_quote_mid
    )


@dataclass(frozen=True, slots=True)
class SettledOption:
    account_id: AccountId
    symbol: str
    action: str
    qty: Decimal
    settlement: SettlementPrice | None
    cash_delta: Decimal


@dataclass
class ExpiryReport:
    """What one run did: the accounts settled, those with nothing left to do, those that failed."""

    trading_date: date
    settled: list[SettledOption] = field(default_factory=list)
    accounts_settled: list[AccountId] = field(default_factory=list)
    failures: dict[AccountId, str] = field(default_factory=dict)

    def summary(self) -> str:
        kinds = {
            a: sum(1 for s in self.settled if s.action == a)
            for a in (Action.EXERCISE, Action.ASSIGNMENT, Action.EXPIRY)
        }
        return (
            f"expiry {self.trading_date}: {len(self.accounts_settled)} account(s), "
            f"{kinds[Action.EXERCISE]} exercised, {kinds[Action.ASSIGNMENT]} assigned, "
            f"{kinds[Action.EXPIRY]} expired, {len(self.failures)} failed"
        )


def expiry_cutoff(trading_date: date) -> datetime:
    """When expiry may run for ``trading_date``: 15 minutes after its NYSE close (16:15 New York
    time on a regular day; an early close moves it), or 16:15 if the day is not a session."""
    close = nyse().session_close(trading_date)
    if close is not None:
        return close + AFTER_CLOSE
    return datetime.combine(trading_date, DEFAULT_CUTOFF, tzinfo=OPTION_EXPIRY_ZONE).astimezone(UTC)


def _contract(position: Position) -> Option | None:
    if position.instrument.asset_class is not AssetClass.US_OPTION:
        return None
    try:
        return option(position.symbol)
    except InvalidSymbolError:
        return None


def expiring_positions(positions: dict[str, Position], trading_date: date) -> list[tuple[Option, Position]]:
    """The option positions among ``positions`` whose contract expires on ``trading_date``, by symbol."""
    found = []
    for symbol in sorted(positions):
        contract = _contract(positions[symbol])
        if contract is not None and contract.expiry == trading_date:
            found.append((contract, positions[symbol]))
    return found


def _day_window(trading_date: date) -> tuple[datetime, datetime]:
    start = datetime.combine(trading_date, time(0), tzinfo=OPTION_EXPIRY_ZONE)
    return start, start + timedelta(days=1)


def _session(trading_date: date) -> tuple[datetime, datetime]:
    session = nyse().session(trading_date)
    if session is not None:
        return session.open, session.close
    start, _ = _day_window(trading_date)
    return start + timedelta(hours=9, minutes=30), start + timedelta(hours=16)


def _daily_bar(uow: UnitOfWork, symbol: str, trading_date: date) -> tuple[Decimal, Decimal] | None:
    """(open, close) of the stored daily bar of ``symbol`` for ``trading_date`` (its start falls
    on that New York day, or is that day's midnight UTC)."""
    start, end = _day_window(trading_date)
    utc_midnight = datetime.combine(trading_date, time(0), tzinfo=UTC)
    bars = uow.prices.bars(symbol, DAILY, start=min(start, utc_midnight), end=end)
    return (bars[0].open, bars[-1].close) if bars else None


def closing_price(uow: UnitOfWork, symbol: str, trading_date: date) -> SettlementPrice | None:
    """The official close of ``symbol`` on ``trading_date`` as the store knows it."""
    bar = _daily_bar(uow, symbol, trading_date)
    if bar is not None:
        return SettlementPrice(bar[1], "daily_bar_close")
    opened, close = _session(trading_date)
    quotes = uow.prices.quotes_between(symbol, opened - timedelta(microseconds=1), close)
    for quote in reversed(quotes):
        if quote.last is not None:
            return SettlementPrice(quote.last, "last_trade")
    last: Quote | None = uow.prices.latest_quote(symbol, at_or_before=close)
    if last is not None and last.time >= _day_window(trading_date)[0]:
        return SettlementPrice(last.mid, "quote_mid")
    return None


def opening_price(uow: UnitOfWork, symbol: str, trading_date: date) -> SettlementPrice | None:
    """The opening print of ``symbol`` on ``trading_date`` (AM settlement)."""
    bar = _daily_bar(uow, symbol, trading_date)
    if bar is not None:
        return SettlementPrice(bar[0], "daily_bar_open")
    opened, close = _session(trading_date)
    quotes = uow.prices.quotes_between(symbol, opened - timedelta(microseconds=1), close)
    for quote in quotes:
        if quote.last is not None:
            return SettlementPrice(quote.last, "opening_trade")
    if quotes:
        return SettlementPrice(quotes[0].mid, "opening_quote_mid")
    return None


def settlement_price(uow: UnitOfWork, contract: Option, trading_date: date) -> SettlementPrice | None:
    """What ``contract`` is settled against: the opening print for an AM-settled index monthly,
    else the close."""
    underlying = underlying_of(contract)
    if contract.settlement is Settlement.CASH and contract.underlying in AM_SETTLED_ROOTS:
        return opening_price(uow, underlying, trading_date)
    return closing_price(uow, underlying, trading_date)


def intrinsic_value(contract: Option, price: Decimal) -> Decimal:
    """Per-share value of exercising ``contract`` against ``price`` (0 when out of the money)."""
    value = price - contract.strike if contract.right is OptionRight.CALL else contract.strike - price
    return max(value, ZERO)


def _ids(account_id: AccountId, symbol: str, trading_date: date) -> Callable[[], str]:
    numbers = count()
    return lambda: str(uuid.uuid5(_NAMESPACE, f"expiry:{account_id}:{symbol}:{trading_date}:{next(numbers)}"))


def _settle_account(
    ctx: ServiceContext, account_id: AccountId, trading_date: date, report: ExpiryReport
) -> None:
    now = ctx.clock()
    with account_tx(ctx.engine, account_id) as tx:
        expiring = expiring_positions(dict(tx.state.positions), trading_date)
        if not expiring:
            tx.uow.rollback()
            return
        settled_symbols = {contract.symbol for contract, _ in expiring}
        if any(o.symbol in settled_symbols for o in tx.uow.orders.open_orders(account_id)):
            orders.cancel_symbols_in(ctx, tx, settled_symbols)  # no order outlives its contract
        state = tx.state
        events: list[Event] = []
        done: list[SettledOption] = []
        for contract, position in expiring:
            price = settlement_price(tx.uow, contract, trading_date)
            if price is None:
                raise Invalid(
                    "price_missing",
                    f"no close, trade or quote of {underlying_of(contract)} on {trading_date} "
                    f"to settle {contract.symbol}",
                )
            value = intrinsic_value(contract, price.price)
            in_the_money = value >= EXERCISE_THRESHOLD
            action = (
                (Action.EXERCISE if position.qty > 0 else Action.ASSIGNMENT)
                if in_the_money
                else Action.EXPIRY
            )
            new_id = _ids(account_id, contract.symbol, trading_date)
            if in_the_money:
                quote = tx.uow.prices.latest_quote(underlying_of(contract), at_or_before=now)
                fills = settlement_fills(
                    new_id,
                    contract,
                    position,
                    position.qty,
                    now,
                    cash_value=price.price,
                    quote=quote,
                    liquidity=action,
                )
            else:
                fills = settlement_fills(
                    new_id,
                    contract,
                    position,
                    position.qty,
                    now,
                    cash_value=contract.strike,  # worth nothing: leaves the book at 0
                    quote=None,
                    liquidity=action,
                )[:1]
            record = OptionSettled(
                at=now,
                key=f"{account_id}:{contract.symbol}:{trading_date}",
                symbol=contract.symbol,
                underlying=underlying_of(contract),
                action=action,
                qty=position.qty,
                strike=contract.strike,
                right=contract.right.value,
                trading_date=trading_date,
                settlement_price=price.price,
                settlement_source=price.source,
                fill_ids=tuple(f.fill_id for f in fills),
            )
            step = handle(state, SettleOption(at=now, fills=fills, record=record))
            cash = sum((e.cash_delta for e in step.events), ZERO)
            state = step.state
            events += step.events
            done.append(SettledOption(account_id, contract.symbol, action, position.qty, price, cash))
        tx.save(state, events, correlation_id=f"expiry:{account_id}:{trading_date}", recorded_at=now)
        rules.fold_and_apply(ctx, tx.uow, tx.account, state, events)
    report.settled += done
    report.accounts_settled.append(account_id)


def accounts_to_settle(ctx: ServiceContext, trading_date: date) -> list[AccountId]:
    """Accounts holding an option position that expires on ``trading_date``, in id order."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        found = []
        for account_id in uow.accounts.open_ids_with_positions():
            state = uow.accounts.load_state(account_id)
            if expiring_positions(dict(state.positions), trading_date):
                found.append(AccountId(account_id))
        return found


def run_expiry(ctx: ServiceContext, trading_date: date) -> ExpiryReport:
    """Settle every option position expiring on ``trading_date``, one transaction per account.

    Refused before the cutoff (:func:`expiry_cutoff`). An account that fails (no price for an
    underlying, say) is logged and reported and the others go on; a rerun retries it.
    """
    now = ctx.clock()
    cutoff = expiry_cutoff(trading_date)
    if now < cutoff:
        raise Invalid(
            "too_early",
            f"options expiring on {trading_date} settle after {cutoff.isoformat()}, not at {now.isoformat()}",
        )
    report = ExpiryReport(trading_date)
    for account_id in accounts_to_settle(ctx, trading_date):
        try:
            _settle_account(ctx, account_id, trading_date, report)
        except (ServiceError, CommandRejected, AccountNotFound) as exc:
            log.warning("expiry %s: account %s not settled: %s", trading_date, account_id, exc)
            report.failures[account_id] = str(exc)
    log.info(report.summary())
    return report
