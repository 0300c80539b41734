"""Validation and pricing of multi-leg option orders (Alpaca ``order_class=mleg``).

An mleg order is ``qty`` units of a *spread*: each unit buys or sells ``ratio_qty`` contracts of
every leg. Rules (Alpaca's, checked in this order, the first failure is raised as a
:class:`MultiLegError` with a stable code):

1. ``invalid_leg_count``: 2 to 4 legs.
2. ``invalid_quantity``: ``qty`` a positive whole number of spreads.
3. ``invalid_limit_price``: a limit price, when given, is a finite number (it may be negative:
   a credit).
4. per leg, in order: ``invalid_leg_symbol`` (not an OCC option symbol), ``invalid_leg_side``
   (not buy/sell) and ``invalid_ratio`` (``ratio_qty`` not an integer ≥ 1); the error names the leg.
5. ``duplicate_leg``: two legs on the same contract (compared after normalizing the OCC symbol);
   names the second one.
6. ``mixed_underlyings``: every leg on the same underlying (OCC root); names the first leg that
   differs from leg 0. Expiries may differ (calendars, diagonals).
7. ``invalid_ratio`` without a leg: the ratios' greatest common divisor must be 1 (Alpaca wants the
   simplest form: 2:4 is 1:2 with twice the ``qty``).

Net price (Alpaca's convention), per spread unit: ``net = Σ side.sign × ratio_qty × leg_price``.
Positive is a net debit (the account pays), negative a net credit (it receives). A limit price is
the worst net acceptable: ``net ≤ limit`` in both cases (a debit limit of 1.20 pays at most 1.20,
a credit limit of −0.80 receives at least 0.80).

Pricing is conservative and all-or-none: every leg at its far side (buy at the ask, sell at the
bid). A leg without a usable quote (none, another symbol's, or a non-positive far side) or with a
stale one (``now − quote.time > max_quote_age_seconds``; exactly the maximum age is fresh, a quote
stamped after ``now`` counts as fresh) makes the whole order unpriceable, and the result names the
first such leg. A priced order whose net is above its limit is not an error: it is not marketable
yet and can rest. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from math import gcd

from propdesk.model.instruments import InvalidSymbolError, Option, option
from propdesk.model.market import Quote
from propdesk.model.numbers import ZERO
from propdesk.model.orders import Side

MIN_LEGS = 2
MAX_LEGS = 4


class MultiLegCode(StrEnum):
    """Stable codes of invalid multi-leg orders (never renamed; new rules get new codes)."""

    INVALID_LEG_COUNT = "invalid_leg_count"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_LIMIT_PRICE = "invalid_limit_price"
    INVALID_LEG_SYMBOL = "invalid_leg_symbol"
    INVALID_LEG_SIDE = "invalid_leg_side"
    INVALID_RATIO = "invalid_ratio"
    DUPLICATE_LEG = "duplicate_leg"
    MIXED_UNDERLYINGS = "mixed_underlyings"


class PricingCode(StrEnum):
    """Why a valid multi-leg order cannot fill now (not errors: the order may rest or wait)."""

    LEG_QUOTE_MISSING = "leg_quote_missing"
    LEG_QUOTE_STALE = "leg_quote_stale"
    LIMIT_NOT_REACHED = "limit_not_reached"


class MultiLegError(ValueError):
    """An invalid multi-leg order; ``leg_index`` (0-based) names the leg at fault, if one is."""

    def __init__(self, code: MultiLegCode, message: str, leg_index: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.leg_index = leg_index


@dataclass(frozen=True, slots=True)
class Leg:
    """One leg of a spread: ``ratio_qty`` contracts of ``symbol`` per spread unit."""

    symbol: str
    side: Side
    ratio_qty: int


@dataclass(frozen=True, slots=True)
class LegPrice:
    """One leg priced at its far side; ``contracts`` = ``ratio_qty × qty`` of the order."""

    leg_index: int
    contract: Option
    side: Side
    ratio_qty: int
    contracts: Decimal
    price: Decimal
    quote: Quote

    @property
    def symbol(self) -> str:
        return self.contract.symbol

    @property
    def signed_value(self) -> Decimal:
        """What the leg costs the account in cash (negative: it receives), multiplier included."""
        return self.side.sign * self.contracts * self.price * self.contract.multiplier


@dataclass(frozen=True, slots=True)
class LegPricing:
    """The pricing of a valid multi-leg order.

    ``code`` is ``None`` when the order is marketable now. With ``leg_quote_missing`` or
    ``leg_quote_stale`` nothing is priced (``legs`` empty, ``net`` ``None``) and ``leg_index`` /
    ``symbol`` name the first leg at fault. With ``limit_not_reached`` every leg is priced but the
    net is above the limit.
    """

    code: PricingCode | None
    message: str
    qty: Decimal
    limit_price: Decimal | None
    legs: tuple[LegPrice, ...] = ()
    net: Decimal | None = None
    leg_index: int | None = None
    symbol: str | None = None

    @property
    def marketable(self) -> bool:
        return self.code is None

    @property
    def priced(self) -> bool:
        return self.net is not None


def validate_legs(legs: Sequence[Leg], qty: Decimal, limit_price: Decimal | None = None) -> list[Option]:
    """The legs' contracts in leg order, or :class:`MultiLegError` for the first broken rule."""
    if not MIN_LEGS <= len(legs) <= MAX_LEGS:
        raise MultiLegError(
            MultiLegCode.INVALID_LEG_COUNT,
            f"a multi-leg order needs {MIN_LEGS} to {MAX_LEGS} legs, got {len(legs)}",
        )
    if not qty.is_finite() or qty <= 0 or qty != qty.to_integral_value():
        raise MultiLegError(
            MultiLegCode.INVALID_QUANTITY, f"qty must be a positive whole number of spreads, got {qty}"
        )
    if limit_price is not None and not limit_price.is_finite():
        raise MultiLegError(MultiLegCode.INVALID_LIMIT_PRICE, f"limit price {limit_price} is not a number")
    contracts: list[Option] = []
    for index, leg in enumerate(legs):
        try:
            contract = option(leg.symbol)
        except InvalidSymbolError as exc:
            raise MultiLegError(MultiLegCode.INVALID_LEG_SYMBOL, f"leg {index}: {exc}", index) from None
        if not isinstance(leg.side, Side):
            raise MultiLegError(
                MultiLegCode.INVALID_LEG_SIDE,
                f"leg {index} ({contract.symbol}): side must be buy or sell, got {leg.side!r}",
                index,
            )
        ratio = leg.ratio_qty
        if isinstance(ratio, bool) or not isinstance(ratio, int) or ratio < 1:
            raise MultiLegError(
                MultiLegCode.INVALID_RATIO,
                f"leg {index} ({contract.symbol}): ratio_qty must be a whole number ≥ 1, got {ratio!r}",
                index,
            )
        contracts.append(contract)
    seen: dict[str, int] = {}
    for index, contract in enumerate(contracts):
        first = seen.setdefault(contract.symbol, index)
        if first != index:
            raise MultiLegError(
                MultiLegCode.DUPLICATE_LEG,
                f"leg {index} repeats leg {first} ({contract.symbol}): legs must be unique contracts",
                index,
            )
    underlying = contracts[0].underlying
    for index, contract in enumerate(contracts):
        if contract.underlying != underlying:
            raise MultiLegError(
                MultiLegCode.MIXED_UNDERLYINGS,
                f"leg {index} ({contract.symbol}) is on {contract.underlying}, leg 0 on {underlying}: "
                "all legs must share one underlying",
                index,
            )
    divisor = 0
    for leg in legs:
        divisor = gcd(divisor, leg.ratio_qty)
    if divisor != 1:
        ratios = ":".join(str(leg.ratio_qty) for leg in legs)
        raise MultiLegError(
            MultiLegCode.INVALID_RATIO,
            f"leg ratios {ratios} are not in simplest form (common factor {divisor}); "
            "divide them and multiply qty instead",
        )
    return contracts


def net_price(legs: Sequence[Leg], prices: Sequence[Decimal]) -> Decimal:
    """``Σ side.sign × ratio_qty × price`` per spread unit: positive a debit, negative a credit."""
    if len(legs) != len(prices):
        raise ValueError(f"{len(legs)} legs but {len(prices)} prices")
    return sum((leg.side.sign * leg.ratio_qty * price for leg, price in zip(legs, prices, strict=True)), ZERO)


def is_marketable(net: Decimal, limit_price: Decimal | None) -> bool:
    """Whether a spread at ``net`` satisfies ``limit_price`` (``None``: a market order, always)."""
    return limit_price is None or net <= limit_price


def _age_seconds(delta: timedelta) -> Decimal:
    # Exact: timedelta.total_seconds() is a float.
    return Decimal(delta.days * 86_400 + delta.seconds) + Decimal(delta.microseconds) / 1_000_000


def price_legs(
    legs: Sequence[Leg],
    qty: Decimal,
    quotes: Mapping[str, Quote | None],
    *,
    now: datetime,
    max_quote_age_seconds: int | Decimal,
    limit_price: Decimal | None,
) -> LegPricing:
    """Price ``qty`` spreads of ``legs`` at the far side of ``quotes`` (keyed by leg symbol).

    Raises :class:`MultiLegError` when the order itself is invalid (see :func:`validate_legs`).
    """
    contracts = validate_legs(legs, qty, limit_price)
    max_age = Decimal(max_quote_age_seconds)
    priced: list[LegPrice] = []
    for index, (leg, contract) in enumerate(zip(legs, contracts, strict=True)):
        quote = quotes.get(leg.symbol)
        if quote is None and contract.symbol != leg.symbol:
            quote = quotes.get(contract.symbol)
        far = None
        if quote is not None and quote.symbol.replace(" ", "") == contract.symbol:
            far = quote.ask if leg.side is Side.BUY else quote.bid
        if quote is None or far is None or far <= 0:
            if quote is None:
                why = "no quote"
            elif far is None:
                why = f"the quote is for {quote.symbol}"
            else:
                why = f"no {'ask' if leg.side is Side.BUY else 'bid'} to {leg.side.value} at"
            return LegPricing(
                code=PricingCode.LEG_QUOTE_MISSING,
                message=f"leg {index} ({contract.symbol}): {why}; the spread cannot be priced",
                qty=qty,
                limit_price=limit_price,
                leg_index=index,
                symbol=contract.symbol,
            )
        age = _age_seconds(quote.age(now))
        if age > max_age:
            return LegPricing(
                code=PricingCode.LEG_QUOTE_STALE,
                message=(
                    f"leg {index} ({contract.symbol}): quote is {age}s old "
                    f"(max {max_age}s); the spread cannot be priced"
                ),
                qty=qty,
                limit_price=limit_price,
                leg_index=index,
                symbol=contract.symbol,
            )
        priced.append(
            LegPrice(
                leg_index=index,
                contract=contract,
                side=leg.side,
                ratio_qty=leg.ratio_qty,
                contracts=leg.ratio_qty * qty,
                price=far,
                quote=quote,
            )
        )
    net = net_price(legs, [leg.price for leg in priced])
    if not is_marketable(net, limit_price):
        return LegPricing(
            code=PricingCode.LIMIT_NOT_REACHED,
            message=f"net {_describe(net)} is worse than the limit {_describe(limit_price)}",
            qty=qty,
            limit_price=limit_price,
            legs=tuple(priced),
            net=net,
        )
    return LegPricing(
        code=None,
        message=f"marketable at net {_describe(net)}",
        qty=qty,
        limit_price=limit_price,
        legs=tuple(priced),
        net=net,
    )


def _describe(net: Decimal | None) -> str:
    if net is None:
        return "market"
    if net < 0:
        return f"{net} (credit {-net})"
    return f"{net} (debit)"
