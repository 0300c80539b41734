"""The state of one account, as the kernel sees it and as projections store it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from propdesk.accounting.option_margin import has_option_positions, option_requirements
from propdesk.accounting.positions import Position
from propdesk.model.ids import AccountId
from propdesk.model.instruments import AssetClass
from propdesk.model.numbers import ONE, ZERO


class AccountStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    PAUSED = "paused"
    LOCKED = "locked"
    COMPLETED = "completed"
    LIQUIDATED = "liquidated"

    @property
    def is_terminal(self) -> bool:
        return self in (AccountStatus.COMPLETED, AccountStatus.LIQUIDATED)

    @property
    def is_open(self) -> bool:
        """Started and not yet ended: marks apply, positions are live."""
        return self in (AccountStatus.ACTIVE, AccountStatus.PAUSED, AccountStatus.LOCKED)


# Allowed status transitions; terminal states have none.
TRANSITIONS: Mapping[AccountStatus, frozenset[AccountStatus]] = MappingProxyType(
    {
        AccountStatus.PENDING: frozenset({AccountStatus.ACTIVE}),
        AccountStatus.ACTIVE: frozenset(
            {
                AccountStatus.PAUSED,
                AccountStatus.LOCKED,
                AccountStatus.COMPLETED,
                AccountStatus.LIQUIDATED,
            }
        ),
        AccountStatus.PAUSED: frozenset(
            {
                AccountStatus.ACTIVE,
                AccountStatus.LOCKED,
                AccountStatus.COMPLETED,
                AccountStatus.LIQUIDATED,
            }
        ),
        AccountStatus.LOCKED: frozenset(
            {
                AccountStatus.ACTIVE,
                AccountStatus.PAUSED,
                AccountStatus.COMPLETED,
                AccountStatus.LIQUIDATED,
            }
        ),
        AccountStatus.COMPLETED: frozenset(),
        AccountStatus.LIQUIDATED: frozenset(),
    }
)

_OPTION = AssetClass.US_OPTION

EMPTY_POSITIONS: Mapping[str, Position] = MappingProxyType({})
EMPTY_RESERVATIONS: Mapping[str, Decimal] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class AccountState:
    """Everything the kernel knows about an account; derived figures are properties.

    ``cash`` is what the account holds: for instruments that pay the notional it has already paid
    for its positions; for futures it has moved only by realized PnL and fees. ``leverage`` is the
    margin model: each unit of gross exposure ties up ``1 / leverage`` of equity.
    """

    account_id: AccountId
    status: AccountStatus = AccountStatus.PENDING
    currency: str = "USD"
    leverage: Decimal = ONE
    starting_cash: Decimal = ZERO
    cash: Decimal = ZERO
    positions: Mapping[str, Position] = field(default_factory=lambda: EMPTY_POSITIONS)
    reservations: Mapping[str, Decimal] = field(default_factory=lambda: EMPTY_RESERVATIONS)
    realized_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    adjustments: Decimal = ZERO
    high_watermark: Decimal = ZERO
    trading_day: date | None = None
    day_start_equity: Decimal = ZERO
    day_start_balance: Decimal = ZERO
    seq: int = 0
    updated_at: datetime | None = None

    @property
    def unrealized_pnl(self) -> Decimal:
        return sum((p.unrealized_pnl for p in self.positions.values()), ZERO)

    @property
    def equity(self) -> Decimal:
        return self.cash + sum((p.equity_contribution for p in self.positions.values()), ZERO)

    @property
    def balance(self) -> Decimal:
        """Closed balance: equity without open PnL (what prop firms call the account balance)."""
        return self.equity - self.unrealized_pnl

    @property
    def gross_exposure(self) -> Decimal:
        return sum((p.exposure for p in self.positions.values()), ZERO)

    @property
    def margin_used(self) -> Decimal:
        """Capital tied up by open positions.

        Positions outside an option group: their gross exposure / ``leverage`` (exactly as for an
        account without options, which takes a fast path that computes nothing else). Each option
        group (see :mod:`propdesk.accounting.option_margin`): its risk-based requirement at expiry,
        unleveraged. If any group's loss is unbounded (e.g. a naked short call), that group counts at
        its finite stress figure and the whole non-negative equity is added on top, so
        ``available_capital`` is negative (by at least the stress figure) until the risk is closed;
        :attr:`has_unbounded_option_risk` says so explicitly.
        """
        # Hot path (marks, gates): one pass that bails out at the first option. ``Position.exposure``
        # is inlined (same operations, so bit-identical; a property test pins it) to stay as cheap
        # as the plain ``gross_exposure / leverage`` it replaces.
        gross = ZERO
        for position in self.positions.values():
            instrument = position.instrument
            if instrument.asset_class is _OPTION:
                return self._margin_with_options()
            gross += abs(position.qty * position.mark * instrument.multiplier)
        return gross / self.leverage

    def _margin_with_options(self) -> Decimal:
        requirements = option_requirements(self.positions)
        covered: set[str] = set()
        for requirement in requirements:
            covered |= requirement.symbols
        gross = sum((p.exposure for s, p in self.positions.items() if s not in covered), ZERO)
        total = gross / self.leverage + sum((r.charge for r in requirements), ZERO)
        if any(r.unbounded for r in requirements):
            total += max(self.equity, ZERO)
        return total

    @property
    def has_unbounded_option_risk(self) -> bool:
        """Whether an option group can lose without limit; callers should refuse orders that create one."""
        if not has_option_positions(self.positions.values()):
            return False
        return any(r.unbounded for r in option_requirements(self.positions))

    @property
    def reserved_for_orders(self) -> Decimal:
        return sum(self.reservations.values(), ZERO)

    @property
    def available_capital(self) -> Decimal:
        """Equity not tied up by positions' margin or by reservations for open orders."""
        return self.equity - self.margin_used - self.reserved_for_orders

    @property
    def buying_power(self) -> Decimal:
        return max(self.available_capital, ZERO) * self.leverage

    @property
    def drawdown_from_start(self) -> Decimal:
        return self.starting_cash - self.equity
