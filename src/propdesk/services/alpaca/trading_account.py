"""The account as Alpaca's Trading API shows it: its figures, its configurations, and the checks those
configurations add in front of the order engine.

Figures come from the account kernel's state (the same numbers the ledger folds to), so
``equity == cash + long_market_value + short_market_value`` holds exactly. Configurations
(``/v2/account/configurations``) are the owner's own switches *below* the account's policy: they
can make an account stricter (``suspend_trade``, ``no_shorting``, ``fractional_trading`` off, a
lower options level) but never looser than its policy, which stays the immutable snapshot taken
at creation. An account with no stored row has the defaults; a reset keeps the row.

The configuration checks run in a read-only snapshot just before the order service takes the
account's lock; an account that never set a configuration costs one extra read. A refusal gives
way when the client order id is already stored, so a resend is still answered by the order
service (idempotency before business checks). A position that changes between the check and the
lock (a fill in another request) can let one sell that ``no_shorting`` would have refused
through; ``suspend_trade`` and the fractional and options switches do not depend on the position.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from propdesk.accounting.state import AccountState
from propdesk.execution.order_book.requests import OrderRequest, ReplaceRequest
from propdesk.execution.policy.codes import CheckCode
from propdesk.execution.spread_orders import SpreadRequest
from propdesk.marketdata.calendars import nyse
from propdesk.model.ids import AccountId, OrderId
from propdesk.model.instruments import AssetClass, Instrument, InvalidSymbolError, parse_instrument
from propdesk.model.numbers import ZERO
from propdesk.model.orders import Direction, Order, OrderClass, Side
from propdesk.model.policy import ExecutionPolicy
from propdesk.services.accounts.commands import policy_of
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Forbidden, Invalid
from propdesk.services.orders import commands as orders
from propdesk.services.orders.book_runner import Submitted
from propdesk.services.transactions import account_tx
from propdesk.store.accounts import AccountRow
from propdesk.store.configurations import AccountConfigurationRecord, AccountConfigurationRepository
from propdesk.store.uow import UnitOfWork

# Alpaca's options levels: 0 disabled, 1 covered calls and cash-secured puts, 2 long calls and
# puts, 3 spreads and straddles. The engine can do all of them when the policy allows options.
OPTIONS_LEVELS = range(0, 4)
SPREADS_LEVEL = 3

T = TypeVar("T")


class CheckTiming(StrEnum):
    """Alpaca's ``dtbp_check`` / ``pdt_check`` values (kept for clients; propdesk has no PDT rule)."""

    BOTH = "both"
    ENTRY = "entry"
    EXIT = "exit"


class ConfirmEmail(StrEnum):
    ALL = "all"
    NONE = "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class Configuration:
    """An account's configuration; ``max_margin_multiplier`` is its policy's leverage (not settable)."""

    fractional_trading: bool
    no_shorting: bool
    suspend_trade: bool
    ptp_no_exception_entry: bool
    dtbp_check: CheckTiming
    pdt_check: CheckTiming
    trade_confirm_email: ConfirmEmail
    max_options_trading_level: int
    max_margin_multiplier: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigurationChange:
    """A PATCH: None keeps the current value."""

    fractional_trading: bool | None = None
    no_shorting: bool | None = None
    suspend_trade: bool | None = None
    ptp_no_exception_entry: bool | None = None
    dtbp_check: CheckTiming | None = None
    pdt_check: CheckTiming | None = None
    trade_confirm_email: ConfirmEmail | None = None
    max_options_trading_level: int | None = None
    max_margin_multiplier: Decimal | None = None


def options_approved_level(policy: ExecutionPolicy) -> int:
    return SPREADS_LEVEL if AssetClass.US_OPTION in policy.allowed_asset_classes else 0


def _shorting_allowed(policy: ExecutionPolicy) -> bool:
    return Direction.SHORT in policy.allowed_directions


def _configuration(policy: ExecutionPolicy, stored: AccountConfigurationRecord | None) -> Configuration:
    approved = options_approved_level(policy)
    if stored is None:
        return Configuration(
            fractional_trading=True,
            no_shorting=not _shorting_allowed(policy),
            suspend_trade=False,
            ptp_no_exception_entry=False,
            dtbp_check=CheckTiming.ENTRY,
            pdt_check=CheckTiming.ENTRY,
            trade_confirm_email=ConfirmEmail.ALL,
            max_options_trading_level=approved,
            max_margin_multiplier=policy.max_leverage,
        )
    level = stored.max_options_trading_level
    return Configuration(
        fractional_trading=stored.fractional_trading,
        no_shorting=stored.no_shorting or not _shorting_allowed(policy),
        suspend_trade=stored.suspend_trade,
        ptp_no_exception_entry=stored.ptp_no_exception_entry,
        dtbp_check=CheckTiming(stored.dtbp_check),
        pdt_check=CheckTiming(stored.pdt_check),
        trade_confirm_email=ConfirmEmail(stored.trade_confirm_email),
        max_options_trading_level=approved if level is None else min(level, approved),
        max_margin_multiplier=policy.max_leverage,
    )


def _load_configuration(uow: UnitOfWork, account: AccountRow) -> Configuration:
    stored = AccountConfigurationRepository(uow.connection).find(account.id)
    return _configuration(policy_of(account), stored)


def configuration(ctx: ServiceContext, account_id: AccountId) -> Configuration:
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        return _load_configuration(uow, uow.accounts.get(account_id))


def configure(ctx: ServiceContext, account_id: AccountId, change: ConfigurationChange) -> Configuration:
    """Apply ``change`` (validated as a whole; a refusal stores nothing) and return the result."""
    with account_tx(ctx.engine, account_id) as tx:
        uow, account = tx.uow, tx.account
        policy = policy_of(account)
        current = _load_configuration(uow, account)
        multiplier = change.max_margin_multiplier
        if multiplier is not None and multiplier != policy.max_leverage:
            raise Invalid(
                "invalid_configuration",
                f"max_margin_multiplier is the account's policy leverage ({policy.max_leverage}) "
                "and cannot be changed",
            )
        if change.no_shorting is False and not _shorting_allowed(policy):
            raise Invalid(
                "invalid_configuration",
                "this account's policy does not allow short selling; no_shorting stays true",
            )
        level = change.max_options_trading_level
        if level is not None and level not in OPTIONS_LEVELS:
            raise Invalid("invalid_configuration", "max_options_trading_level must be 0, 1, 2 or 3")

        def pick(new: T | None, old: T) -> T:
            return old if new is None else new

        record = AccountConfigurationRecord(
            account_id=account.id,
            fractional_trading=pick(change.fractional_trading, current.fractional_trading),
            no_shorting=pick(change.no_shorting, current.no_shorting),
            suspend_trade=pick(change.suspend_trade, current.suspend_trade),
            ptp_no_exception_entry=pick(change.ptp_no_exception_entry, current.ptp_no_exception_entry),
            dtbp_check=pick(change.dtbp_check, current.dtbp_check).value,
            pdt_check=pick(change.pdt_check, current.pdt_check).value,
            trade_confirm_email=pick(change.trade_confirm_email, current.trade_confirm_email).value,
            max_options_trading_level=pick(level, current.max_options_trading_level),
            updated_at=ctx.clock(),
        )
        AccountConfigurationRepository(uow.connection).put(record)
    return _configuration(policy, record)


# --- the account's figures ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TradingAccount:
    """One consistent read of an account for ``GET /v2/account``."""

    account: AccountRow
    state: AccountState
    policy: ExecutionPolicy
    configuration: Configuration
    as_of: date

    @property
    def long_market_value(self) -> Decimal:
        """What long positions add to equity (their value; a future's open PnL)."""
        return sum((p.equity_contribution for p in self.state.positions.values() if p.qty > 0), ZERO)

    @property
    def short_market_value(self) -> Decimal:
        """What short positions add to equity (negative: their value owed; a future's open PnL)."""
        return sum((p.equity_contribution for p in self.state.positions.values() if p.qty < 0), ZERO)

    @property
    def unleveraged_buying_power(self) -> Decimal:
        """Capital free for an unleveraged purchase (options, non-marginable assets)."""
        return max(self.state.available_capital, ZERO)

    @property
    def options_trading_level(self) -> int:
        return min(options_approved_level(self.policy), self.configuration.max_options_trading_level)


def trading_account(ctx: ServiceContext, account_id: AccountId) -> TradingAccount:
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        account = uow.accounts.get(account_id)
        state = uow.accounts.load_state(account_id)
        config = _load_configuration(uow, account)
    today = ctx.clock().astimezone(nyse().zone).date()
    return TradingAccount(account, state, policy_of(account), config, today)


# --- orders behind the configuration ---------------------------------------------------------------


def _instrument(symbol: str, asset_class: AssetClass | None) -> Instrument | None:
    try:
        return parse_instrument(symbol, asset_class)
    except InvalidSymbolError:
        return None  # the order service refuses it with its own message


def _check_single(
    uow: UnitOfWork,
    account_id: AccountId,
    config: Configuration,
    instrument: Instrument,
    side: Side,
    qty: Decimal | None,
    notional: Decimal | None,
    *,
    replacing: str | None = None,
) -> None:
    fractional = notional is not None or (qty is not None and qty != qty.to_integral_value())
    if fractional and not config.fractional_trading and instrument.asset_class is not AssetClass.CRYPTO:
        raise Invalid(
            CheckCode.FRACTIONAL_TRADING_DISABLED.value,
            "fractional orders are disabled for this account (fractional_trading is false); qty must be integer",
        )
    if instrument.asset_class is AssetClass.US_OPTION and config.max_options_trading_level == 0:
        raise Forbidden(
            CheckCode.OPTIONS_TRADING_DISABLED.value, "options trading is disabled for this account (level 0)"
        )
    if side is Side.SELL and config.no_shorting and instrument.asset_class is not AssetClass.US_OPTION:
        position = uow.accounts.load_state(account_id).positions.get(instrument.symbol)
        held = position.qty if position is not None else ZERO
        selling = sum(
            (
                o.remaining
                for o in uow.orders.open_orders(account_id)
                if o.symbol == instrument.symbol
                and o.side is Side.SELL
                and o.parent_id is None
                and o.id != replacing
            ),
            ZERO,
        )
        closable = max(ZERO, held - selling)
        if (qty is not None and qty > closable) or (notional is not None and closable <= 0):
            raise Forbidden(
                CheckCode.SHORTING_DISABLED.value,
                "account is not allowed to short (no_shorting); "
                f"{closable} {instrument.symbol} can be sold without opening a short",
            )


def _own_configuration(uow: UnitOfWork, account_id: AccountId) -> Configuration | None:
    """The account's configuration if its owner ever set one; None for the defaults, which restrict
    nothing that the policy (checked by the order engine) does not, so an order needs no more reads."""
    stored = AccountConfigurationRepository(uow.connection).find(account_id)
    if stored is None:
        return None
    return _configuration(policy_of(uow.accounts.get(account_id)), stored)


def _check_not_suspended(config: Configuration) -> None:
    if config.suspend_trade:
        raise Forbidden(
            CheckCode.TRADING_SUSPENDED.value,
            "new orders are suspended for this account (suspend_trade is true)",
        )


def submit_order(ctx: ServiceContext, account_id: AccountId, request: OrderRequest) -> Submitted:
    def guard(uow: UnitOfWork) -> None:
        config = _own_configuration(uow, account_id)
        if config is None:
            return
        _check_not_suspended(config)
        instrument = _instrument(request.symbol, request.asset_class)
        if instrument is not None:
            _check_single(uow, account_id, config, instrument, request.side, request.qty, request.notional)

    return orders.submit_order(ctx, account_id, request, guard=guard)


def submit_spread(ctx: ServiceContext, account_id: AccountId, request: SpreadRequest) -> Submitted:
    def guard(uow: UnitOfWork) -> None:
        config = _own_configuration(uow, account_id)
        if config is None:
            return
        _check_not_suspended(config)
        if config.max_options_trading_level < SPREADS_LEVEL:
            raise Forbidden(
                CheckCode.OPTIONS_LEVEL_TOO_LOW.value,
                f"multi-leg orders need options trading level {SPREADS_LEVEL}; "
                f"this account's is {config.max_options_trading_level}",
            )

    return orders.submit_spread(ctx, account_id, request, guard=guard)


def replace_order(
    ctx: ServiceContext, account_id: AccountId, order_id: OrderId, change: ReplaceRequest
) -> Order:
    """A replacement is a new order: the same switches apply to it."""

    def guard(uow: UnitOfWork) -> None:
        config = _own_configuration(uow, account_id)
        old = None if config is None else uow.orders.get(account_id, order_id)
        if config is None or old is None:
            return
        _check_not_suspended(config)
        instrument = _instrument(old.symbol, old.asset_class)
        qty = change.qty if change.qty is not None else old.remaining
        if instrument is not None and old.order_class is not OrderClass.MLEG:
            _check_single(uow, account_id, config, instrument, old.side, qty, None, replacing=old.id)

    return orders.replace_order(ctx, account_id, order_id, change, guard=guard)


@dataclass(frozen=True, slots=True)
class Shortfall:
    """What Alpaca adds to an ``insufficient buying power`` refusal."""

    buying_power: Decimal
    cost_basis: Decimal | None


def shortfall(ctx: ServiceContext, account_id: AccountId, request: OrderRequest) -> Shortfall:
    """The account's buying power now and what the refused order would have cost (its notional at
    its limit price, else at the latest quote's far side; None when neither is known)."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        state = uow.accounts.load_state(account_id)
        instrument = _instrument(request.symbol, request.asset_class)
        if request.notional is not None:
            return Shortfall(state.buying_power, request.notional)
        if instrument is None or request.qty is None:
            return Shortfall(state.buying_power, None)
        price = request.limit_price
        if price is None:
            quote = uow.prices.latest_quote(instrument.symbol, at_or_before=ctx.clock())
            if quote is not None:
                price = quote.ask if request.side is Side.BUY else quote.bid
        if price is None:
            price = request.stop_price
    cost = None if price is None else instrument.notional(request.qty, price)
    return Shortfall(state.buying_power, cost)


# --- orders as Alpaca lists them -------------------------------------------------------------------
