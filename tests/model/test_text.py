"""Text from outside (issue 14, hole 3): control characters and lone surrogates are refused."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import Field, ValidationError

from propdesk.model.text import (
    CheckedText,
    TextError,
    check_printable_id,
    check_text,
    check_texts,
    escape_text,
    text_problem,
)

WHITESPACE = frozenset("\t\n\r")


def refused(text: str, *, free_text: bool) -> bool:
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs" or (category == "Cc" and not (free_text and char in WHITESPACE)):
            return True
    return False


@given(st.text(), st.booleans())
@example("a\x00b", False)
@example("a\ud800", False)
@example("\udfff", True)
@example("line\nbreak", True)
@example("line\nbreak", False)
@example("\x7f", True)
@example("\x85", True)
@example("emoji \U0001f600", False)
def test_text_is_refused_exactly_when_it_holds_a_control_character_or_a_surrogate(
    text: str, free_text: bool
) -> None:
    problem = text_problem(text, free_text=free_text)
    assert (problem is not None) == refused(text, free_text=free_text)
    if problem is None:
        assert check_text(text, field="f", free_text=free_text) == text
        text.encode("utf-8")  # storable on both databases
    else:
        with pytest.raises(TextError, match=r"^f: must not contain"):
            check_text(text, field="f", free_text=free_text)


@given(st.text())
def test_escaped_text_is_always_clean_and_encodable(text: str) -> None:
    escaped = escape_text(text)
    assert text_problem(escaped) is None
    escaped.encode("utf-8")
    if text_problem(text) is None:
        assert escaped == text


def test_nested_values_keys_and_free_text_fields() -> None:
    check_texts({"reason": "two\nlines", "tags": ["a", "b"]}, field="body")
    with pytest.raises(TextError, match=r"^body\.tags\[1\]: must not contain a control character \(U\+0000"):
        check_texts({"tags": ["a", "b\x00"]}, field="body")
    with pytest.raises(TextError, match=r"^body\.symbol: must not contain a control character"):
        check_texts({"symbol": "AAPL\n"}, field="body")
    with pytest.raises(TextError, match=r"a key"):
        check_texts({"k\x01": 1}, field="body")
    with pytest.raises(TextError, match="unpaired surrogate"):
        check_texts(("x", "\ud83d"), field="body")


def test_client_order_ids_are_printable_and_at_most_128_characters() -> None:
    assert check_printable_id("a" * 128, field="coid") == "a" * 128
    assert check_printable_id("ünïcode-✓ ok", field="coid") == "ünïcode-✓ ok"
    for bad, message in (
        ("a" * 129, "1 to 128 characters"),
        ("", "1 to 128 characters"),
        ("a\u200bb", "printable characters only"),  # a zero-width space (Cf)
        ("a\nb", "control character"),
        ("a\ud800", "unpaired surrogate"),
    ):
        with pytest.raises(TextError, match=message):
            check_printable_id(bad, field="coid")


class _Body(CheckedText):
    symbol: str
    note: str | None = None
    symbols: list[str] = Field(default_factory=list)


def test_every_field_of_a_checked_model_is_checked_by_construction() -> None:
    assert _Body(symbol="AAPL", note="a\tb\r\nc").note == "a\tb\r\nc"
    for fields, where in (
        ({"symbol": "A\x00"}, ("symbol",)),
        ({"symbol": "A", "note": "x\x00"}, ("note",)),
        ({"symbol": "A", "symbols": ["B", "\ud800"]}, ("symbols",)),
    ):
        with pytest.raises(ValidationError) as raised:
            _Body.model_validate(fields)
        (error,) = raised.value.errors()
        assert error["loc"] == where
        assert "must not contain" in error["msg"]
