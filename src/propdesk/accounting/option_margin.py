"""Risk-based capital requirement of option positions, grouped by underlying, at expiry.

Options are not leveraged: an option group ties up exactly what it could still lose. A *group* is
every option position on one underlying plus the account's stock position in that underlying
(same symbol, ``us_equity``), if any. An underlying without options is not a group: its stock
keeps the ordinary ``gross exposure / leverage`` margin of :class:`~propdesk.accounting.state.
AccountState`. Option positions whose symbol is not an OCC symbol (which cannot happen for fills
made from :func:`~propdesk.model.instruments.option`) are not grouped either and fall back to that
ordinary margin.

The payoff of a group when the underlying settles at ``S`` is::

    payoff(S) = Σ stock qty × multiplier × S
              + Σ option qty × multiplier × intrinsic(S)   (call: max(S − K, 0), put: max(K − S, 0))

**Approximation:** every expiry is evaluated together at one ``S``, as if all the group's options
expired at the same moment. This is exact for same-expiry spreads and a reasonable bound for
calendars and diagonals (the far leg is worth at least its intrinsic value), and it needs no
volatility model.

``payoff`` is piecewise linear with breakpoints at the strikes, so on ``S ≥ 0`` its minimum is at
``S = 0`` or at a strike, unless its slope beyond the highest strike (stock qty × multiplier +
Σ call qty × multiplier) is negative: then the loss is unbounded. The requirement of a bounded
group is ``max(0, value_now − min payoff)`` where ``value_now`` is the signed market value of the
group's positions (what the account's equity already counts for them), i.e. the most the group
can still take out of equity. Examples (premiums per share, multiplier 100):

* short put K=50 at 2: ``−200 − (−5000) = 4800`` — cash-secured: 5000 of which the 200 premium is
  already in cash;
* long 100C at 5, short 110C at 2 (debit spread): ``300 − 0 = 300``, the net debit;
* short 100C at 5, long 110C at 2 (credit spread): ``−300 − (−1000) = 700``, the max loss;
* covered call, 100 shares at 100 and short 110C at 2: ``9800 − 0 = 9800`` (the stock in a group is
  not leveraged);
* naked short call: unbounded.

**Unbounded groups** get a finite, conservative *stress* figure instead (``stress_amount``), so
arithmetic never meets an infinity: the group's loss from ``value_now`` at the worst of ``S = 0``,
the strikes and the stress price ``2 × max(highest strike, stock mark)``, and at least the
uncovered quantity (``−slope``) times ``max(highest strike, stock mark)``, so it is always
positive. :attr:`AccountState.margin_used` adds the whole (non-negative) equity on top when any
group is unbounded, which makes ``available_capital`` negative; callers should refuse an order
that would create an unbounded group (``AccountState.has_unbounded_option_risk``) before it fills.

Pure: no I/O, Decimal only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from propdesk.accounting.positions import Position
from propdesk.model.instruments import AssetClass, InvalidSymbolError, Option, OptionRight, option
from propdesk.model.numbers import ZERO

TWO = Decimal(2)


@dataclass(frozen=True, slots=True)
class GroupRequirement:
    """What one underlying's option group ties up.

    ``amount`` is the risk-based requirement, ``None`` when the loss is unbounded (the group's
    payoff falls without limit as the underlying rises). ``stress_amount`` is always finite: equal
    to ``amount`` for a bounded group, the stress figure described in the module docstring for an
    unbounded one. ``min_payoff`` is the lowest payoff at expiry (``None`` when unbounded) and
    ``slope`` the payoff's slope beyond the highest strike (negative iff unbounded).
    """

    underlying: str
    symbols: frozenset[str]
    value_now: Decimal
    min_payoff: Decimal | None
    slope: Decimal
    amount: Decimal | None
    stress_amount: Decimal

    @property
    def unbounded(self) -> bool:
        return self.amount is None

    @property
    def charge(self) -> Decimal:
        """What the group counts for in margin: ``amount``, or ``stress_amount`` when unbounded."""
        return self.stress_amount if self.amount is None else self.amount


@dataclass(frozen=True, slots=True)
class OptionGroup:
    """The positions of one underlying that are margined together."""

    underlying: str
    stock: tuple[Position, ...]
    options: tuple[tuple[Position, Option], ...]

    @property
    def symbols(self) -> frozenset[str]:
        return frozenset(p.symbol for p in self.stock) | frozenset(p.symbol for p, _ in self.options)

    @property
    def positions(self) -> tuple[Position, ...]:
        return self.stock + tuple(p for p, _ in self.options)

    @property
    def strikes(self) -> tuple[Decimal, ...]:
        """The distinct strikes, ascending."""
        return tuple(sorted({contract.strike for _, contract in self.options}))

    @property
    def value_now(self) -> Decimal:
        return sum((p.market_value for p in self.positions), ZERO)

    @property
    def slope(self) -> Decimal:
        """d payoff / dS beyond the highest strike: stock plus calls, in underlying units."""
        stock = sum((p.qty * p.instrument.multiplier for p in self.stock), ZERO)
        calls = sum(
            (p.qty * p.instrument.multiplier for p, c in self.options if c.right is OptionRight.CALL),
            ZERO,
        )
        return stock + calls

    def payoff(self, price: Decimal) -> Decimal:
        """The group's value at expiry if the underlying settles at ``price``."""
        total = sum((p.qty * p.instrument.multiplier * price for p in self.stock), ZERO)
        for position, contract in self.options:
            total += position.qty * position.instrument.multiplier * intrinsic(contract, price)
        return total


def intrinsic(contract: Option, price: Decimal) -> Decimal:
    """Exercise value per share: ``max(S − K, 0)`` for a call, ``max(K − S, 0)`` for a put."""
    if contract.right is OptionRight.CALL:
        return max(price - contract.strike, ZERO)
    return max(contract.strike - price, ZERO)


@lru_cache(maxsize=4096)
def _contract(symbol: str) -> Option | None:
    try:
        return option(symbol)
    except InvalidSymbolError:
        return None


def has_option_positions(positions: Iterable[Position]) -> bool:
    """Whether any position is an option (the fast-path test for equity-only accounts)."""
    return any(p.instrument.asset_class is AssetClass.US_OPTION for p in positions)


def option_groups(positions: Mapping[str, Position]) -> list[OptionGroup]:
    """The option groups of ``positions``, sorted by underlying."""
    by_underlying: dict[str, list[tuple[Position, Option]]] = {}
    for position in positions.values():
        if position.instrument.asset_class is not AssetClass.US_OPTION:
            continue
        contract = _contract(position.symbol)
        if contract is None:
            continue
        by_underlying.setdefault(contract.underlying, []).append((position, contract))
    groups: list[OptionGroup] = []
    for underlying in sorted(by_underlying):
        stock = positions.get(underlying)
        held = (
            (stock,)
            if stock is not None
            and stock.symbol == underlying
            and stock.instrument.asset_class is AssetClass.US_EQUITY
            and stock.qty > 0  # long stock covers calls; short stock keeps its own (leveraged) margin
            else ()
        )
        legs = tuple(sorted(by_underlying[underlying], key=lambda pair: pair[0].symbol))
        groups.append(OptionGroup(underlying, held, legs))
    return groups


def group_requirement(group: OptionGroup) -> GroupRequirement:
    """The requirement of one group (see the module docstring for the rules)."""
    value_now = group.value_now
    slope = group.slope
    strikes = group.strikes
    points = (ZERO, *strikes)
    if slope >= 0:
        lowest = min(group.payoff(s) for s in points)
        amount = max(value_now - lowest, ZERO)
        return GroupRequirement(group.underlying, group.symbols, value_now, lowest, slope, amount, amount)
    reference = max((*strikes, *(p.mark for p in group.stock)))
    stressed = min(group.payoff(s) for s in (*points, reference * TWO))
    stress = max(value_now - stressed, -slope * reference)
    return GroupRequirement(group.underlying, group.symbols, value_now, None, slope, None, stress)


def option_requirements(positions: Mapping[str, Position]) -> list[GroupRequirement]:
    """The requirement of every option group in ``positions``, sorted by underlying."""
    return [group_requirement(group) for group in option_groups(positions)]
