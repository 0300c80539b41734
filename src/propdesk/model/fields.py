"""Request-model field types for numbers, built on :func:`propdesk.model.numbers.parse_decimal`.

Every money, price and quantity field of every request model (``/api/v1``, ``/v2``, the risk
requests) is one of these, so the grammar, the bounds and the 422 naming the field are the same
at every door. The JSON schemas published in the OpenAPI document say the same as the parser:
a string in the grammar (with the 10^12 and 18-decimal bounds written into the pattern) or a
JSON number.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

from propdesk.model.numbers import MAX_FRACTION_DIGITS, MAX_QUANTITY, NotExactError, parse_decimal

_LIMIT: Final = int(MAX_QUANTITY)
_DIGITS: Final = len(str(_LIMIT)) - 1  # 12: anything with at most 12 integer digits is below the limit
# The grammar with its bounds: at most 10^12 (leading zeros allowed) and 18 digits after the point.
UNSIGNED_PATTERN: Final = (
    rf"^0*([0-9]{{1,{_DIGITS}}}(\.[0-9]{{1,{MAX_FRACTION_DIGITS}}})?"
    rf"|{_LIMIT}(\.0{{1,{MAX_FRACTION_DIGITS}}})?)$"
)
SIGNED_PATTERN: Final = "^-?" + UNSIGNED_PATTERN[1:]


def _schema(*, signed: bool, positive: bool, what: str) -> dict[str, Any]:
    number: dict[str, Any] = {"type": "number", "maximum": _LIMIT}
    if signed:
        number["minimum"] = -_LIMIT
    elif positive:
        number["exclusiveMinimum"] = 0
    else:
        number["minimum"] = 0
    return {
        "anyOf": [
            {
                "type": "string",
                "pattern": SIGNED_PATTERN if signed else UNSIGNED_PATTERN,
                "examples": ["10.5"],
            },
            number,
        ],
        "description": (
            f"{what}: an exact decimal, as a string of ASCII digits with an optional "
            + ('leading "-" and ' if signed else "")
            + 'fraction ("10.5"; no "+", "_", exponent or spaces) or as a JSON number (read exactly, '
            f"never as a float); at most 10^12 in absolute value and {MAX_FRACTION_DIGITS} decimals"
        ),
    }


SIGNED_SCHEMA: Final = _schema(signed=True, positive=False, what="any sign")


def _parser(*, signed: bool, positive: bool) -> BeforeValidator:
    def parse(value: object, info: ValidationInfo) -> Decimal:
        try:
            return parse_decimal(value, field=info.field_name or "value", signed=signed, positive=positive)
        except NotExactError as exc:
            # The error's location names the field already.
            message = str(exc).removeprefix(f"{info.field_name}: ")
            raise PydanticCustomError("invalid_number", message) from None

    return BeforeValidator(parse)


PositiveDecimal = Annotated[
    Decimal,
    _parser(signed=False, positive=True),
    WithJsonSchema(_schema(signed=False, positive=True, what="greater than 0")),
]
"""A quantity, price or amount greater than 0 (at most 10^12)."""

SignedDecimal = Annotated[
    Decimal,
    _parser(signed=True, positive=False),
    WithJsonSchema(SIGNED_SCHEMA),
]
"""An amount that may be negative (a credit, a PnL), at most 10^12 in absolute value."""
