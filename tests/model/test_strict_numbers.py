"""The one number grammar (issue 14, hole 7): parse_decimal accepts exactly the grammar, exactly.

The oracle below is written without a regular expression, so the parser's regex is checked against
an independent reading of the grammar: optional "-", ASCII digits, optional "." and ASCII digits.
"""

from __future__ import annotations

import re
import string
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from propdesk.model.fields import SIGNED_PATTERN, UNSIGNED_PATTERN
from propdesk.model.numbers import MAX_QUANTITY, NotExactError, parse_decimal

ASCII_DIGITS = frozenset(string.digits)


def in_grammar(text: str) -> bool:
    body = text[1:] if text.startswith("-") else text
    whole, dot, fraction = body.partition(".")
    if not whole or not set(whole) <= ASCII_DIGITS:
        return False
    return not dot or (fraction != "" and set(fraction) <= ASCII_DIGITS)


def exact_value(text: str) -> Fraction:
    sign = -1 if text.startswith("-") else 1
    whole, _, fraction = text.lstrip("-").partition(".")
    return sign * Fraction(int(whole + fraction), 10 ** len(fraction))


def parses(text: object) -> Decimal | None:
    try:
        return parse_decimal(text, field="qty", signed=True, maximum=None, places=10_000)
    except NotExactError as exc:
        message = str(exc)
    assert message.startswith("qty: ")  # every refusal names the field
    return None


@given(st.text())
@example("1_000")
@example("١٢")
@example("１２")
@example("+1")
@example("1e3")
@example("NaN")
@example("-Infinity")
@example(" 1")
@example("1 ")
@example("1.")
@example(".5")
@example("-")
@example("--1")
@example("1.2.3")
@example("0x10")
@example("1\n")
def test_any_unicode_text_is_accepted_exactly_when_it_is_in_the_grammar(text: str) -> None:
    parsed = parses(text)
    assert (parsed is not None) == in_grammar(text), text
    if parsed is not None:
        assert Fraction(parsed) == exact_value(text)


NUMBERS = st.from_regex(r"-?[0-9]{1,20}(\.[0-9]{1,20})?", fullmatch=True)
OTHER_DIGITS = st.characters(categories=["Nd"]).filter(lambda c: c not in ASCII_DIGITS)


@given(NUMBERS)
def test_numbers_in_the_grammar_round_trip_exactly(text: str) -> None:
    parsed = parses(text)
    assert parsed is not None
    assert Fraction(parsed) == exact_value(text)
    assert parsed == Decimal(text)
    assert parsed.as_tuple() == Decimal(text).as_tuple()  # even the written precision is kept


@given(NUMBERS, OTHER_DIGITS, st.data())
def test_a_digit_from_another_script_anywhere_is_refused(text: str, digit: str, data: st.DataObject) -> None:
    at = data.draw(st.integers(0, len(text)))
    assert parses(text[:at] + digit + text[at:]) is None
    assert parses(text.translate({ord(d): digit for d in "0123456789"})) is None


@given(NUMBERS, st.sampled_from(["_", "+", " ", "\t", "\u00a0", ",", "'", "e", "E", "\x00"]), st.data())
def test_separators_signs_spaces_and_exponent_letters_are_refused(
    text: str, intruder: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(text)))
    assert parses(text[:at] + intruder + text[at:]) is None


@given(NUMBERS, st.sampled_from(["e", "E"]), st.sampled_from(["", "+", "-"]), st.integers(0, 400))
def test_exponents_are_refused_in_text(text: str, letter: str, sign: str, power: int) -> None:
    assert parses(f"{text}{letter}{sign}{power}") is None


@pytest.mark.parametrize("text", ["+1", "+0.5", "NaN", "nan", "sNaN", "Infinity", "-inf", "∞", "1e309"])
def test_signs_and_special_values_are_refused(text: str) -> None:
    assert parses(text) is None


@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_a_decimal_is_accepted_when_finite_and_kept_as_it_is(value: Decimal) -> None:
    parsed = parses(value)
    assert (parsed is not None) == value.is_finite()
    if parsed is not None:
        assert parsed.as_tuple() == value.as_tuple()


@given(st.floats(allow_nan=True) | st.booleans())
def test_floats_and_bools_are_never_numbers(value: float | bool) -> None:
    assert parses(value) is None


def test_bounds_sign_zero_and_places() -> None:
    assert parse_decimal("1000000000000") == MAX_QUANTITY
    assert parse_decimal(Decimal("1E+12")) == MAX_QUANTITY
    for too_big in ("1000000000000.000000001", 10**12 + 1, Decimal("1E+309"), Decimal("-1E+309")):
        with pytest.raises(NotExactError, match="at most 1,000,000,000,000"):
            parse_decimal(too_big, signed=True)
    with pytest.raises(NotExactError, match="must not be negative"):
        parse_decimal("-1")
    with pytest.raises(NotExactError, match="must not be negative"):
        parse_decimal("-0")
    assert parse_decimal("-1", signed=True) == -1
    with pytest.raises(NotExactError, match="greater than 0"):
        parse_decimal("0.000", positive=True)
    with pytest.raises(NotExactError, match="greater than 0"):
        parse_decimal("-3", signed=True, positive=True)
    assert parse_decimal("0.000000000000000001") == Decimal("1E-18")
    with pytest.raises(NotExactError, match="at most 18 digits after"):
        parse_decimal("0.0000000000000000001")
    with pytest.raises(NotExactError, match="at most 18 digits after"):
        parse_decimal(Decimal("1E-19"))
    with pytest.raises(NotExactError, match="at most 2 digits after"):
        parse_decimal("1.005", places=2)


def test_error_messages_escape_what_they_quote() -> None:
    with pytest.raises(NotExactError) as raised:
        parse_decimal("1\ud800\x00", field="qty")
    message = str(raised.value)
    assert "\ud800" not in message
    assert "\x00" not in message
    assert message.encode("utf-8")  # printable in any response


@given(st.text(alphabet="0123456789.-+e_ ١") | NUMBERS | st.text())
@example("1000000000000")
@example("1000000000000.000")
@example("1000000000000.001")
@example("0001000000000000")
@example("999999999999.999999999999999999")
@example("1.0000000000000000000")
@example("-0")
def test_the_openapi_patterns_say_exactly_what_the_parser_accepts(text: str) -> None:
    """The published schema and the parser agree on every string (bounds included)."""
    for pattern, signed in ((UNSIGNED_PATTERN, False), (SIGNED_PATTERN, True)):
        try:
            parse_decimal(text, signed=signed)
            accepted = True
        except NotExactError:
            accepted = False
        assert (re.fullmatch(pattern, text) is not None) == accepted, (pattern, text)
