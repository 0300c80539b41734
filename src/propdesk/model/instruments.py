"""Tradable instruments and how each moves cash.

An instrument knows its multiplier (how much one unit of price move is worth per unit of
quantity), its tick and lot size (for explicit quantization) and whether a fill pays the notional
(equities, crypto, options) or moves cash only by realized PnL (futures). The accounting kernel
needs nothing else from an instrument, which is what :class:`InstrumentSpec` carries into fills
and ledger events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from propdesk.model.numbers import ONE, is_multiple_of, quantize_to_increment


class AssetClass(StrEnum):
    """Asset classes; the first three use Alpaca's spelling."""

    US_EQUITY = "us_equity"
    CRYPTO = "crypto"
    US_OPTION = "us_option"
    FUTURE = "future"


class OptionRight(StrEnum):
    CALL = "call"
    PUT = "put"


class Settlement(StrEnum):
    PHYSICAL = "physical"
    CASH = "cash"


class ExerciseStyle(StrEnum):
    AMERICAN = "american"
    EUROPEAN = "european"


class InvalidSymbolError(ValueError):
    """A symbol that does not name an instrument propdesk knows how to trade."""


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    """What accounting needs to know about an instrument, small enough to copy into every fill."""

    symbol: str
    asset_class: AssetClass
    multiplier: Decimal = ONE

    @property
    def pays_notional(self) -> bool:
        """Whether a fill exchanges the full notional for the position (not true of futures)."""
        return self.asset_class is not AssetClass.FUTURE


@dataclass(frozen=True, slots=True)
class Instrument:
    """Base of every instrument: symbol, class, multiplier, price tick and quantity lot."""

    symbol: str
    asset_class: AssetClass
    multiplier: Decimal
    tick_size: Decimal
    lot_size: Decimal

    @property
    def spec(self) -> InstrumentSpec:
        return InstrumentSpec(self.symbol, self.asset_class, self.multiplier)

    def round_price(self, value: Decimal) -> Decimal:
        """The nearest valid price (half-even at the midpoint between two ticks)."""
        return quantize_to_increment(value, self.tick_for(value))

    def tick_for(self, value: Decimal) -> Decimal:
        """The minimum price increment at ``value``; equities override it below $1."""
        return self.tick_size

    def is_valid_price(self, value: Decimal) -> bool:
        return is_multiple_of(value, self.tick_for(value))

    def round_qty(self, value: Decimal) -> Decimal:
        """The nearest valid quantity (half-even)."""
        return quantize_to_increment(value, self.lot_size)

    def is_valid_qty(self, value: Decimal) -> bool:
        return is_multiple_of(value, self.lot_size)

    def notional(self, quantity: Decimal, at_price: Decimal) -> Decimal:
        """Absolute value of ``quantity`` units at ``at_price`` including the multiplier."""
        return abs(quantity) * at_price * self.multiplier


SUB_DOLLAR_TICK = Decimal("0.0001")
PENNY = Decimal("0.01")
NANO = Decimal("0.000000001")


@dataclass(frozen=True, slots=True)
class Equity(Instrument):
    """A US-listed stock or ETF; fractional quantities to nine decimal places as on Alpaca."""

    shortable: bool = True
    easy_to_borrow: bool = True
    fractionable: bool = True

    def tick_for(self, value: Decimal) -> Decimal:
        # Reg NMS Rule 612: quotes at or above $1.00 in pennies, below $1.00 in 0.0001.
        return PENNY if abs(value) >= ONE else SUB_DOLLAR_TICK


def equity(symbol: str, *, shortable: bool = True, easy_to_borrow: bool = True) -> Equity:
    if not re.fullmatch(r"[A-Z][A-Z0-9.\-]{0,9}", symbol):
        raise InvalidSymbolError(f"{symbol!r} is not a US equity symbol")
    return Equity(
        symbol=symbol,
        asset_class=AssetClass.US_EQUITY,
        multiplier=ONE,
        tick_size=PENNY,
        lot_size=NANO,
        shortable=shortable,
        easy_to_borrow=easy_to_borrow,
    )


@dataclass(frozen=True, slots=True)
class CryptoPair(Instrument):
    """A spot crypto pair such as ``BTC/USD``, quoted in the second currency, traded 24/7."""

    base: str = ""
    quote: str = ""


def crypto_pair(symbol: str, *, tick_size: Decimal = PENNY, lot_size: Decimal = NANO) -> CryptoPair:
    """``BTC/USD`` (Alpaca's order symbol); ``BTCUSD`` (its position symbol) is accepted too."""
    match = re.fullmatch(r"([A-Z0-9]{2,10})/?(USD|USDC|USDT|BTC|ETH)", symbol)
    if not match:
        raise InvalidSymbolError(f"{symbol!r} is not a crypto pair like BTC/USD")
    base, quote = match.groups()
    return CryptoPair(
        symbol=f"{base}/{quote}",
        asset_class=AssetClass.CRYPTO,
        multiplier=ONE,
        tick_size=tick_size,
        lot_size=lot_size,
        base=base,
        quote=quote,
    )


@dataclass(frozen=True, slots=True)
class FutureRoot:
    """Exchange specification of a futures product (per contract)."""

    root: str
    name: str
    exchange: str
    point_value: Decimal
    tick_size: Decimal
    micro_of: str | None = None

    @property
    def tick_value(self) -> Decimal:
        return self.point_value * self.tick_size


def _root(
    root: str, name: str, exchange: str, point: str, tick: str, micro_of: str | None = None
) -> FutureRoot:
    return FutureRoot(root, name, exchange, Decimal(point), Decimal(tick), micro_of)


# Contract specifications as published by CME Group (CME, CBOT, NYMEX, COMEX).
FUTURE_ROOTS: dict[str, FutureRoot] = {
    spec.root: spec
    for spec in (
        _root("ES", "E-mini S&P 500", "CME", "50", "0.25"),
        _root("MES", "Micro E-mini S&P 500", "CME", "5", "0.25", micro_of="ES"),
        _root("NQ", "E-mini Nasdaq-100", "CME", "20", "0.25"),
        _root("MNQ", "Micro E-mini Nasdaq-100", "CME", "2", "0.25", micro_of="NQ"),
        _root("RTY", "E-mini Russell 2000", "CME", "50", "0.10"),
        _root("M2K", "Micro E-mini Russell 2000", "CME", "5", "0.10", micro_of="RTY"),
        _root("YM", "E-mini Dow ($5)", "CBOT", "5", "1"),
        _root("MYM", "Micro E-mini Dow", "CBOT", "0.5", "1", micro_of="YM"),
        _root("GC", "Gold", "COMEX", "100", "0.10"),
        _root("MGC", "Micro Gold", "COMEX", "10", "0.10", micro_of="GC"),
        _root("SI", "Silver", "COMEX", "5000", "0.005"),
        _root("CL", "Crude Oil", "NYMEX", "1000", "0.01"),
        _root("MCL", "Micro WTI Crude Oil", "NYMEX", "100", "0.01", micro_of="CL"),
    )
}

MONTH_CODES = "FGHJKMNQUVXZ"


@dataclass(frozen=True, slots=True)
class Future(Instrument):
    """A futures contract: ``ESZ26`` (December 2026) or the bare root ``ES`` for the front month."""

    root: FutureRoot | None = None
    contract_month: date | None = None

    @property
    def is_micro(self) -> bool:
        return self.root is not None and self.root.micro_of is not None


def future(symbol: str) -> Future:
    """Parse ``ROOT[MONTHCODE YY]`` (``ES``, ``MESH27``, ``/GCZ26``); the longest known root wins."""
    text = symbol.removeprefix("/")
    for root in sorted(FUTURE_ROOTS, key=len, reverse=True):
        if not text.startswith(root):
            continue
        rest = text[len(root) :]
        contract_month = None
        if rest:
            tail = _MONTH_YEAR.fullmatch(rest)
            if tail is None:
                continue
            month = MONTH_CODES.index(tail.group(1)) + 1
            contract_month = date(2000 + int(tail.group(2)), month, 1)
        spec = FUTURE_ROOTS[root]
        return Future(
            symbol=text,
            asset_class=AssetClass.FUTURE,
            multiplier=spec.point_value,
            tick_size=spec.tick_size,
            lot_size=ONE,
            root=spec,
            contract_month=contract_month,
        )
    known = ", ".join(FUTURE_ROOTS)
    raise InvalidSymbolError(f"{symbol!r} is not a known futures contract (roots: {known})")


_MONTH_YEAR = re.compile(r"([FGHJKMNQUVXZ])(\d{2})")
_DATED_FUTURE = re.compile(r"/?[A-Z0-9]{1,4}[FGHJKMNQUVXZ]\d{2}")


# Index options that settle in cash and exercise European style.
CASH_SETTLED_ROOTS = frozenset(
    {"SPX", "SPXW", "XSP", "NDX", "NDXP", "RUT", "RUTW", "VIX", "VIXW", "DJX", "XND", "MRUT"}
)
# Of those, the standard monthlies settled on the opening print of expiry day (AM-settled); the
# weeklies and the rest (SPXW, NDXP, RUTW, XSP, ...) settle on the close (PM-settled).
AM_SETTLED_ROOTS = frozenset({"SPX", "NDX", "RUT", "VIX", "DJX"})
OPTION_MULTIPLIER = Decimal(100)
# Listed US options expire at the close of their expiry date.
OPTION_EXPIRY_ZONE = ZoneInfo("America/New_York")
OPTION_EXPIRY_TIME = time(16, 0)
_OCC = re.compile(r"([A-Z][A-Z0-9]{0,5})(\d{2})(\d{2})(\d{2})([CP])(\d{8})")


@dataclass(frozen=True, slots=True)
class Option(Instrument):
    """A listed US option identified by its OCC symbol, e.g. ``AAPL240119C00150000``."""

    underlying: str = ""
    expiry: date = date.min
    right: OptionRight = OptionRight.CALL
    strike: Decimal = Decimal(0)
    settlement: Settlement = Settlement.PHYSICAL
    style: ExerciseStyle = ExerciseStyle.AMERICAN

    @property
    def expires_at(self) -> datetime:
        """When the contract expires: the close (16:00 New York time) of its expiry date."""
        return datetime.combine(self.expiry, OPTION_EXPIRY_TIME, tzinfo=OPTION_EXPIRY_ZONE)

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def expired_contract_problem(contract: Option, now: datetime, held: Decimal | None) -> str | None:
    """Why no order may be sent on ``contract`` at ``now`` (None while it trades). ``held`` is the
    account's position in it: an expired position is settled by the expiry job, never traded."""
    if not contract.is_expired(now):
        return None
    when = f"{contract.expiry.isoformat()} 16:00 New York time"
    if held:
        return (
            f"{contract.symbol} expired at {when}: the position of {held} awaits expiry processing "
            "and cannot be closed by an order"
        )
    return f"{contract.symbol} expired at {when}: orders on an expired contract are refused"


def option(symbol: str) -> Option:
    """Parse an OCC option symbol (root up to 6 characters, YYMMDD, C/P, strike × 1000 in 8 digits)."""
    match = _OCC.fullmatch(symbol.replace(" ", ""))
    if not match:
        raise InvalidSymbolError(f"{symbol!r} is not an OCC option symbol like AAPL240119C00150000")
    root, yy, mm, dd, right, strike = match.groups()
    try:
        expiry = date(2000 + int(yy), int(mm), int(dd))
    except ValueError as exc:
        raise InvalidSymbolError(f"{symbol!r} has an impossible expiry date") from exc
    cash = root in CASH_SETTLED_ROOTS
    return Option(
        symbol=format_occ(
            root,
            expiry,
            OptionRight.CALL if right == "C" else OptionRight.PUT,
            Decimal(strike) / 1000,
        ),
        asset_class=AssetClass.US_OPTION,
        multiplier=OPTION_MULTIPLIER,
        tick_size=PENNY,
        lot_size=ONE,
        underlying=root,
        expiry=expiry,
        right=OptionRight.CALL if right == "C" else OptionRight.PUT,
        strike=(Decimal(strike) / 1000).normalize(),
        settlement=Settlement.CASH if cash else Settlement.PHYSICAL,
        style=ExerciseStyle.EUROPEAN if cash else ExerciseStyle.AMERICAN,
    )


def format_occ(root: str, expiry: date, right: OptionRight, strike: Decimal) -> str:
    """The OCC symbol for a contract; the strike must be a multiple of 0.001."""
    thousandths = strike * 1000
    if thousandths != thousandths.to_integral_value() or not 0 < thousandths < 10**8:
        raise InvalidSymbolError(f"strike {strike} cannot be written in an OCC symbol")
    letter = "C" if right is OptionRight.CALL else "P"
    return f"{root}{expiry:%y%m%d}{letter}{int(thousandths):08d}"


def parse_instrument(symbol: str, asset_class: AssetClass | None = None) -> Instrument:
    """Resolve a symbol to an instrument; without an asset class the symbol's shape decides.

    Shapes: an OCC symbol is an option, ``XXX/YYY`` a crypto pair, ``/ROOT`` or a root with a
    month code and two-digit year (``ESZ26``) a future, anything else an equity ticker. A bare
    root is an equity ticker on its own (``CL`` is Colgate-Palmolive), so pass the asset class.
    """
    text = symbol.strip().upper()
    if asset_class is AssetClass.US_OPTION or (asset_class is None and _OCC.fullmatch(text)):
        return option(text)
    if asset_class is AssetClass.FUTURE or (
        asset_class is None and (text.startswith("/") or _DATED_FUTURE.fullmatch(text))
    ):
        return future(text)
    if asset_class is AssetClass.CRYPTO or (asset_class is None and "/" in text):
        return crypto_pair(text)
    return equity(text)
