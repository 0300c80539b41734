"""Exercising options: the manual exercise of a long position (``POST /v2/positions/{symbol}/exercise``)
and the fills that settle an option at its strike or in cash, shared with the expiry job
(:mod:`propdesk.services.daily.expiry`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from propdesk.accounting.events import Event
from propdesk.accounting.kernel import ApplyFill, handle
from propdesk.accounting.positions import Position
from propdesk.accounting.state import AccountState
from propdesk.marketdata.calendars import nyse
from propdesk.marketdata.prices import is_stale
from propdesk.model.fills import Fill
from propdesk.model.ids import AccountId
from propdesk.model.instruments import (
    AssetClass,
    ExerciseStyle,
    InvalidSymbolError,
    Option,
    OptionRight,
    Settlement,
    option,
    parse_instrument,
)
from propdesk.model.market import Quote
from propdesk.model.numbers import ZERO
from propdesk.model.orders import Side
from propdesk.services.accounts import rules
from propdesk.services.accounts.commands import policy_of
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Forbidden, Invalid, NotFound
from propdesk.services.market.assets import trading_date, underlying_of
from propdesk.services.orders.positions import find_symbol, held_for_orders
from propdesk.services.transactions import account_tx
from propdesk.store.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Exercised:
    symbol: str
    qty: Decimal
    fills: list[Fill]
    state: AccountState


def _check_exercisable(contract: Option, position: Position, now: datetime) -> None:
    if position.qty < 0:
        raise Invalid(
            "short_option_position",
            f"{position.symbol} is a short position: only long options can be exercised",
        )
    if not nyse().is_open(now):
        raise Invalid("market_closed", "exercise requests are taken only while the market is open")
    today = trading_date(now)
    if contract.expiry < today:
        raise Invalid("option_expired", f"{contract.symbol} expired on {contract.expiry}")
    if contract.style is ExerciseStyle.EUROPEAN and contract.expiry != today:
        raise Invalid(
            "european_exercise",
            f"{contract.symbol} is European-style: it can be exercised only on {contract.expiry}",
        )


def settlement_fills(
    new_id: Callable[[], str],
    contract: Option,
    position: Position,
    qty: Decimal,
    now: datetime,
    *,
    cash_value: Decimal | None,
    quote: Quote | None,
    liquidity: str = "exercise",
) -> list[Fill]:
    """The fills that settle ``qty`` contracts (signed like the position: a long exercised, a
    short assigned) of ``contract``: the option leaves the book, at 0 for a physically settled
    contract (the underlying is then delivered at the strike, 100 per contract: a long call or a
    short put buys it, a long put or a short call sells it), or at its intrinsic value against
    ``cash_value`` for a cash-settled one (no delivery). ``quote`` of the underlying, if any,
    is recorded on the delivery. The manual exercise and the expiry job both build their fills here.
    """
    size = abs(qty)

    def option_leaves(price: Decimal) -> Fill:
        return Fill(
            fill_id=new_id(),
            order_id=None,
            instrument=position.instrument,
            side=Side.SELL if qty > 0 else Side.BUY,
            qty=size,
            price=price,
            fee=ZERO,
            time=now,
            mark=position.mark,
            liquidity=liquidity,
        )

    if contract.settlement is Settlement.CASH:
        assert cash_value is not None, "a cash-settled contract settles against a value"
        intrinsic = (
            cash_value - contract.strike
            if contract.right is OptionRight.CALL
            else contract.strike - cash_value
        )
        return [option_leaves(max(intrinsic, ZERO))]
    buys = (contract.right is OptionRight.CALL) == (qty > 0)
    stock = parse_instrument(underlying_of(contract), AssetClass.US_EQUITY)
    delivery = Fill(
        fill_id=new_id(),
        order_id=None,
        instrument=stock.spec,
        side=Side.BUY if buys else Side.SELL,
        qty=size * contract.multiplier,
        price=contract.strike,
        fee=ZERO,
        time=now,
        bid=None if quote is None else quote.bid,
        ask=None if quote is None else quote.ask,
        mark=None if quote is None else quote.mid,
        liquidity=liquidity,
    )
    return [option_leaves(ZERO), delivery]


def _exercise_fills(
    ctx: ServiceContext,
    uow: UnitOfWork,
    policy_max_age: int,
    contract: Option,
    position: Position,
    qty: Decimal,
    now: datetime,
) -> list[Fill]:
    underlying = underlying_of(contract)
    quote = uow.prices.latest_quote(underlying, at_or_before=now)
    value: Decimal | None = None
    if contract.settlement is Settlement.CASH:
        if quote is None or is_stale(quote, max_age=timedelta(seconds=policy_max_age), now=now):
            raise Invalid(
                "price_missing",
                f"no fresh quote for {underlying} to settle {contract.symbol}; nothing was exercised",
            )
        value = quote.mid
    return settlement_fills(ctx.ids, contract, position, qty, now, cash_value=value, quote=quote)


def exercise(ctx: ServiceContext, account_id: AccountId, text: str) -> Exercised:
    """Exercise every contract of a long option position that open orders do not hold."""
    now = ctx.clock()
    with account_tx(ctx.engine, account_id) as tx:
        uow, account, state = tx.uow, tx.account, tx.state
        symbol = find_symbol(state.positions, text)
        if symbol is None:
            raise NotFound("position_not_found", "position does not exist", {"symbol": text})
        position = state.positions[symbol]
        if position.instrument.asset_class is not AssetClass.US_OPTION:
            raise Invalid("not_an_option", f"{symbol} is not an option position")
        try:
            contract = option(symbol)
        except InvalidSymbolError as exc:
            raise Invalid("not_an_option", str(exc)) from None
        _check_exercisable(contract, position, now)
        held = held_for_orders(uow.orders.open_orders(account_id), symbol, position.qty)
        qty = position.qty - held
        if qty <= 0:
            raise Forbidden(
                "insufficient_qty_available",
                f"all {position.qty} {symbol} are held for open orders; nothing to exercise",
                {"available": ZERO, "existing_qty": position.qty, "held_for_orders": held, "symbol": symbol},
            )
        policy = policy_of(account)
        fills = _exercise_fills(ctx, uow, policy.max_quote_age_seconds, contract, position, qty, now)
        after = state
        events: list[Event] = []
        for fill in fills:
            step = handle(after, ApplyFill(at=now, fill=fill))
            after = step.state
            events += step.events
        if after.available_capital < 0 and after.available_capital < state.available_capital:
            raise Forbidden(
                "insufficient_buying_power",
                "insufficient buying power to take delivery of the underlying",
                {"buying_power": state.buying_power},
            )
        uow.accounts.save(account_id, after, events, correlation_id=fills[0].fill_id, recorded_at=now)
        rules.fold_and_apply(ctx, uow, account, after, events)
    return Exercised(symbol, qty, fills, after)
