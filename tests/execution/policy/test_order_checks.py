"""The order checks refuse with the code table's kind and carry what they measured."""

from __future__ import annotations

from decimal import Decimal

from propdesk.execution.policy.codes import ORDER_REFUSAL, CheckCode
from propdesk.execution.policy.order_checks import refuse
from propdesk.model.orders import Side
from propdesk.model.policy import ExecutionPolicy
from tests.execution.order_book.test_book import long_aapl, new_book, refused, request, submit

D = Decimal


def test_refuse_takes_the_kind_from_the_code_table_and_records_the_failed_check() -> None:
    rejected = refuse(CheckCode.MAX_OPEN_ORDERS, "too many", value=6, limit=5)
    assert (rejected.code, rejected.kind) == (CheckCode.MAX_OPEN_ORDERS, "forbidden")
    assert rejected.check is not None
    assert (rejected.check.passed, rejected.check.value, rejected.check.limit) == (False, 6, 5)
    assert rejected.details == {}
    assert refuse(CheckCode.INVALID_PRICE, "bad", field="limit_price").details == {"field": "limit_price"}


def test_a_notional_limit_refusal_says_what_it_measured() -> None:
    book = new_book(policy=ExecutionPolicy(max_order_notional=D(500)))
    caught = refused(lambda: submit(book, request(qty="10")))
    assert caught.code == "max_order_notional"
    assert caught.kind == ORDER_REFUSAL[CheckCode.MAX_ORDER_NOTIONAL] == "forbidden"
    assert caught.check is not None
    assert (caught.check.value, caught.check.limit) == (D("1000.10"), D(500))


def test_reducing_a_position_is_never_blocked_by_the_notional_limit() -> None:
    book = new_book(long_aapl("10"), policy=ExecutionPolicy(max_order_notional=D(500)))
    assert submit(book, request(Side.SELL, qty="10")).filled_qty == D(10)
