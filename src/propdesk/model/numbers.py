"""Exact numbers for money, prices and quantities.

Every amount in propdesk is a :class:`~decimal.Decimal`. ``float`` is refused at every entry point
because binary floating point cannot represent most decimal prices (``0.1 + 0.2 != 0.3``), and a
cent lost in a parse is a cent lost forever in the ledger. ``Money``, ``Price`` and ``Qty`` are
distinct types for the type checker and plain ``Decimal`` at run time, so arithmetic costs nothing.

Every number that comes from outside (an API body, a query parameter, a CLI option, a CSV or bar
file) goes through :func:`parse_decimal`, the one strict grammar: a string is ASCII digits with an
optional leading ``-`` (only where negatives make sense) and an optional ``.fraction``; no ``+``,
``_``, exponent, whitespace, non-ASCII digits, NaN or infinity. A JSON number is exact text too:
the API decodes bodies with ``parse_float=Decimal``, so ``1e-05`` arrives as ``Decimal("0.00001")``
and reaches this function as a ``Decimal``, never as a float. :func:`to_decimal` stays for values
propdesk wrote itself (stored snapshots, column text), which may be in exponent form.
"""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final, NewType

Money = NewType("Money", Decimal)
Price = NewType("Price", Decimal)
Qty = NewType("Qty", Decimal)

ZERO = Decimal(0)
ONE = Decimal(1)
CENT = Decimal("0.01")
BPS = Decimal("0.0001")

DecimalInput = Decimal | int | str


class NotExactError(ValueError):
    """A value that cannot be turned into an exact decimal (a float, a bool, NaN, garbage)."""


# The grammar of a decimal written as text; ``[0-9]`` is ASCII only (``\d`` would take "١٢").
DECIMAL_GRAMMAR: Final = r"-?[0-9]+(?:\.[0-9]+)?"
_GRAMMAR = re.compile(DECIMAL_GRAMMAR)
# Bounds every outside number obeys unless its field says otherwise: quantities and prices are at
# most 10^12 in absolute value, and no number has more than 18 digits after the point.
MAX_QUANTITY: Final = Decimal(10) ** 12
MAX_FRACTION_DIGITS: Final = 18


def _shown(value: str) -> str:
    """``value`` quoted for an error message: escaped (no control character or lone surrogate
    reaches a response) and cut to 40 characters."""
    return repr(value[:40]) + ("…" if len(value) > 40 else "")


def parse_decimal(
    value: object,
    *,
    field: str = "value",
    signed: bool = False,
    positive: bool = False,
    maximum: Decimal | None = MAX_QUANTITY,
    places: int = MAX_FRACTION_DIGITS,
) -> Decimal:
    """The one parser of numbers from outside: exact, in the strict grammar, within bounds.

    ``value`` is a string in :data:`DECIMAL_GRAMMAR`, an ``int`` or a ``Decimal`` (a JSON number
    decoded exactly); a float, a bool and anything else are refused. ``signed`` allows a negative
    number (and a leading ``-``), ``positive`` refuses zero, ``maximum`` bounds the absolute value
    and ``places`` the digits after the point (trailing zeros count: ``"1.50"`` has two). Every
    refusal is a :class:`NotExactError` whose message starts with ``field``.
    """
    if isinstance(value, bool | float):
        raise NotExactError(
            f"{field}: a {type(value).__name__} is not an exact decimal; send a decimal string such as "
            '"10.5" or a JSON number'
        )
    if isinstance(value, str):
        if _GRAMMAR.fullmatch(value) is None:
            raise NotExactError(
                f"{field}: {_shown(value)} is not a decimal number: write ASCII digits with an optional "
                'leading "-" and fraction, e.g. "10.5" (no "+", "_", exponent, spaces or other digits)'
            )
        number = Decimal(value)
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, Decimal):
        number = value
    else:
        raise NotExactError(f"{field}: a {type(value).__name__} is not a decimal number")
    if not number.is_finite():
        raise NotExactError(f"{field}: must be a finite number")
    if number.is_signed() and not signed:
        raise NotExactError(f"{field}: must not be negative")
    if positive and number <= 0:
        raise NotExactError(f"{field}: must be greater than 0")
    if maximum is not None and number.copy_abs() > maximum:
        raise NotExactError(f"{field}: must be at most {maximum:,} in absolute value")
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if -exponent > places:
        raise NotExactError(f"{field}: must have at most {places} digits after the decimal point")
    return number


def to_decimal(value: object, *, field: str = "value") -> Decimal:
    """Parse ``value`` into a finite ``Decimal``; floats, bools, NaN and infinities are refused.

    Strings are parsed as written (``"0.1"`` is exactly one tenth). ``field`` names the input in
    the error so that a caller can tell a user which field was wrong.
    """
    if isinstance(value, (bool, float)):
        raise NotExactError(f"{field}: {type(value).__name__} is not exact; pass a string or Decimal")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation as exc:
            raise NotExactError(f"{field}: {value!r} is not a decimal number") from exc
    else:
        raise NotExactError(f"{field}: {type(value).__name__} is not a decimal number")
    if not result.is_finite():
        raise NotExactError(f"{field}: {value!r} is not a finite number")
    return result


def money(value: object, *, field: str = "amount") -> Money:
    """An exact amount of money."""
    return Money(to_decimal(value, field=field))


def price(value: object, *, field: str = "price") -> Price:
    """An exact price; it may be negative (spreads, some futures) but must be finite."""
    return Price(to_decimal(value, field=field))


def qty(value: object, *, field: str = "qty") -> Qty:
    """An exact quantity."""
    return Qty(to_decimal(value, field=field))


def quantize_to_increment(value: Decimal, increment: Decimal, *, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """Round ``value`` to a whole multiple of ``increment`` (a tick or a lot size).

    Unlike ``Decimal.quantize`` this handles increments that are not powers of ten, such as a
    0.25 index-futures tick or a 0.005 silver tick. The result keeps the increment's exponent
    (``100.10`` on a 0.05 grid, never ``1.001E+2``) and zero is never negative.
    """
    if increment <= 0:
        raise ValueError(f"increment must be positive, got {increment}")
    units = (value / increment).to_integral_value(rounding=rounding)
    result = (units * increment).quantize(increment)
    return result.copy_abs() if result == 0 else result


def is_multiple_of(value: Decimal, increment: Decimal) -> bool:
    """Whether ``value`` is a whole multiple of ``increment``."""
    return (value % increment) == 0


def round_money(value: Decimal, *, rounding: str = ROUND_HALF_UP) -> Money:
    """Round an amount to whole cents; used where a real broker would charge cents (fees)."""
    return Money(value.quantize(CENT, rounding=rounding))


def truncate_qty(value: Decimal, increment: Decimal) -> Qty:
    """Round a quantity down to the lot size, so that sizing never buys more than it can pay."""
    return Qty(quantize_to_increment(value, increment, rounding=ROUND_DOWN))


def bps(value: DecimalInput) -> Decimal:
    """Basis points as a fraction: ``bps(10) == Decimal("0.001")``."""
    return to_decimal(value, field="bps") * BPS
