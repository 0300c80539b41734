"""The kernel's reset: back to a fresh account's figures, the ledger kept and folding exactly."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from propdesk.accounting.events import (
    AccountReset,
    Event,
    FillApplied,
    ReservationReleased,
    decode_event,
    event_payload,
)
from propdesk.accounting.kernel import (
    AdjustCash,
    ApplyFill,
    ChangeStatus,
    Command,
    CommandRejected,
    Liquidate,
    MarkToPrices,
    ReserveForOrder,
    ResetAccount,
    Start,
    StartTradingDay,
    handle,
    replay,
)
from propdesk.accounting.state import AccountState, AccountStatus
from propdesk.model.fills import Fill
from propdesk.model.ids import AccountId
from propdesk.model.orders import Side
from tests.accounting.test_kernel_properties import INSTRUMENTS, commands, run
from tests.factories import T0, at, make_fill, started_account

D = Decimal
AAPL, MES = INSTRUMENTS[0], INSTRUMENTS[2]


def closing_fills(state: AccountState, price: Decimal | None = None) -> list[Fill]:
    """One fill per position that flattens it (at its mark unless ``price`` is given)."""
    return [
        Fill(
            fill_id=f"close-{symbol}",
            order_id=None,
            instrument=p.instrument,
            side=Side.SELL if p.qty > 0 else Side.BUY,
            qty=abs(p.qty),
            price=p.mark if price is None else price,
            fee=D(0),
            time=T0,
        )
        for symbol, p in sorted(state.positions.items())
    ]


def apply(state: AccountState, *commands: Command) -> tuple[AccountState, list[Event]]:
    events: list[Event] = []
    for command in commands:
        decision = handle(state, command)
        state = decision.state
        events += decision.events
    return state, events


def traded() -> tuple[AccountState, list[Event]]:
    """100,000 started; 100 AAPL bought at 150 (fee 1), marked at 160, 5,000 reserved, -50 adjusted."""
    return apply(
        AccountState(account_id=AccountId("acct-1")),
        Start(at=T0, starting_cash=D(100000), currency="USD", leverage=D(5)),
        ApplyFill(at=at(1), fill=make_fill(AAPL, Side.BUY, "100", "150", fee="1")),
        StartTradingDay(at=at(2), trading_day=T0.date()),
        MarkToPrices(at=at(3), prices={"AAPL": D(160)}),
        ReserveForOrder(at=at(4), order_id="o1", amount=D(5000)),
        AdjustCash(at=at(5), amount=D(-50), reason="data fee"),
    )


def test_reset_golden_figures_and_events() -> None:
    state, history = traded()
    assert (state.cash, state.equity, state.realized_pnl, state.fees) == (D(84949), D(100949), D(0), D(1))
    assert state.high_watermark == D(100999)
    fill = make_fill(AAPL, Side.SELL, "100", "159", fee="0")
    decision = handle(state, ResetAccount(at=at(10), fills=[fill], starting_balance=D(100000), reason="t"))

    released, filled, reset = decision.events
    assert released == ReservationReleased(at=at(10), order_id="o1", amount=D(5000), reason="reset")
    assert isinstance(filled, FillApplied)
    assert filled.realized_pnl == D(900)
    assert filled.cash_delta == D(15900)
    assert isinstance(reset, AccountReset)
    assert reset.cash_delta == D(-849)  # 84,949 + 15,900 = 100,849 back to 100,000
    assert (reset.starting_balance, reset.from_status) == (D(100000), AccountStatus.ACTIVE)

    after = decision.state
    assert after.cash == after.equity == after.balance == after.starting_cash == D(100000)
    assert not after.positions
    assert not after.reservations
    assert after.reserved_for_orders == 0
    assert (after.realized_pnl, after.fees, after.adjustments, after.unrealized_pnl) == (D(0),) * 4
    assert after.high_watermark == after.day_start_equity == after.day_start_balance == D(100000)
    assert after.trading_day == T0.date()  # the day already begun goes on from the new balance
    assert after.status is AccountStatus.ACTIVE
    assert after.seq == state.seq + 3
    assert after.buying_power == D(500000)
    assert replay(AccountId("acct-1"), history + decision.events) == after


def test_reset_to_another_amount_keeps_the_books_balanced_afterwards() -> None:
    state, history = traded()
    decision = handle(
        state, ResetAccount(at=at(10), fills=closing_fills(state), starting_balance=D("2500.50"), reason="t")
    )
    after, later = apply(
        decision.state,
        ApplyFill(at=at(11), fill=make_fill(AAPL, Side.BUY, "10", "100", fee="2")),
        MarkToPrices(at=at(12), prices={"AAPL": D(90)}),
    )
    assert decision.state.cash == decision.state.starting_cash == D("2500.50")
    assert after.cash == D("1498.50")
    assert after.equity == D("2398.50")
    # The PnL identity restarts from the new starting balance.
    assert after.realized_pnl + after.unrealized_pnl - after.fees + after.adjustments == after.equity - D(
        "2500.50"
    )
    assert after.high_watermark == D("2500.50")
    assert replay(AccountId("acct-1"), history + decision.events + later) == after


def test_a_futures_position_is_closed_by_its_pnl_only() -> None:
    state, _ = apply(
        started_account("50000"),
        ApplyFill(at=at(1), fill=make_fill(MES, Side.SELL, "2", "5000", fee="1.24")),
        MarkToPrices(at=at(2), prices={"MES": D(5010)}),
    )
    assert (state.cash, state.equity) == (D("49998.76"), D("49898.76"))
    fill = make_fill(MES, Side.BUY, "2", "5010", fee="1.24")
    decision = handle(state, ResetAccount(at=at(3), fills=[fill], starting_balance=D(50000), reason="t"))
    filled, reset = decision.events
    assert isinstance(filled, FillApplied)
    assert filled.cash_delta == D("-101.24")
    assert reset.cash_delta == D("102.48")
    assert decision.state.cash == decision.state.equity == D(50000)


@pytest.mark.parametrize("ended", ["liquidated", "completed", "paused", "locked"])
def test_reset_reopens_an_account_from_any_started_status(ended: str) -> None:
    state, _ = apply(started_account("1000"), ApplyFill(at=at(1), fill=make_fill(AAPL, Side.BUY, "1", "10")))
    if ended == "liquidated":
        fill = make_fill(AAPL, Side.SELL, "1", "9")
        state = handle(state, Liquidate(at=at(2), fills=[fill], reason="breach")).state
    else:
        if ended == "completed":
            state = handle(state, ApplyFill(at=at(2), fill=make_fill(AAPL, Side.SELL, "1", "12"))).state
        state = handle(state, ChangeStatus(at=at(2), to=AccountStatus(ended), reason="x")).state
    assert state.status is AccountStatus(ended)
    decision = handle(
        state, ResetAccount(at=at(3), fills=closing_fills(state), starting_balance=D(1000), reason="t")
    )
    reset = decision.events[-1]
    assert isinstance(reset, AccountReset)
    assert reset.from_status is AccountStatus(ended)
    assert decision.state.status is AccountStatus.ACTIVE
    assert decision.state.cash == decision.state.equity == D(1000)
    # And it trades again.
    handle(decision.state, ApplyFill(at=at(4), fill=make_fill(AAPL, Side.BUY, "1", "10")))


def test_refusals_change_nothing() -> None:
    def refused(state: AccountState, command: ResetAccount, code: str) -> None:
        with pytest.raises(CommandRejected) as info:
            handle(state, command)
        assert info.value.code == code

    held, _ = apply(started_account(), ApplyFill(at=at(1), fill=make_fill(AAPL, Side.BUY, "5", "10")))
    reset = ResetAccount(at=at(2), fills=[], starting_balance=D(100000), reason="t")
    refused(AccountState(account_id=AccountId("p")), reset, "account_not_started")
    fills = closing_fills(held)
    refused(held, ResetAccount(at=at(2), fills=fills, starting_balance=D(0), reason="t"), "invalid_amount")
    refused(held, ResetAccount(at=at(2), fills=fills, starting_balance=D(-5), reason="t"), "invalid_amount")
    refused(held, ResetAccount(at=at(2), fills=fills, starting_balance=D(5), reason=" "), "reason_required")


def test_the_reset_event_round_trips_through_json() -> None:
    state, _ = traded()
    events = handle(
        state, ResetAccount(at=at(9), fills=closing_fills(state), starting_balance=D("123.45"), reason="r")
    ).events
    for event in events:
        payload = json.loads(json.dumps(event_payload(event)))
        assert decode_event(event.type, event.at, event.cash_delta, payload) == event
    assert event_payload(events[-1]) == {
        "starting_balance": "123.45",
        "from_status": "active",
        "reason": "r",
        "archived": [],
    }


def test_positions_left_open_are_archived_without_a_price() -> None:
    """Issue 14 (hole 4): a reset needs no quote; what is held leaves the account in the reset event."""
    held, _ = traded()
    archived_value = sum((p.equity_contribution for p in held.positions.values()), D(0))
    decision = handle(held, ResetAccount(at=at(9), starting_balance=D(50000), reason="fresh start"))
    reset = decision.events[-1]
    assert isinstance(reset, AccountReset)
    assert reset.archived == tuple(held.positions.values())
    assert [type(e) for e in decision.events] == [ReservationReleased, AccountReset]
    assert reset.equity_delta == D(50000) - held.equity == reset.cash_delta - archived_value
    state = decision.state
    assert (state.cash, state.equity, dict(state.positions), dict(state.reservations)) == (
        D(50000),
        D(50000),
        {},
        {},
    )
    payload = json.loads(json.dumps(event_payload(reset)))
    assert decode_event(reset.type, reset.at, reset.cash_delta, payload) == reset
    # An event stored before positions were archived (no "archived" key) still decodes.
    old = {k: v for k, v in payload.items() if k != "archived"}
    assert decode_event(reset.type, reset.at, reset.cash_delta, old) == replace(reset, archived=())


@settings(max_examples=100, deadline=None)
@given(
    commands(),
    commands(),
    st.decimals(min_value=D("0.01"), max_value=D(10_000_000), places=2),
    st.decimals(min_value=D("0.01"), max_value=D(6000), places=2),
)
def test_any_account_resets_to_its_starting_balance_and_folds_exactly(
    before: list[Command], after: list[Command], balance: Decimal, close_at: Decimal
) -> None:
    state, events = run(before, D(100000))
    decision = handle(
        state,
        ResetAccount(at=at(50), fills=closing_fills(state, close_at), starting_balance=balance, reason="t"),
    )
    fresh = decision.state
    assert fresh.cash == fresh.equity == fresh.starting_cash == fresh.high_watermark == balance
    assert not fresh.positions
    assert not fresh.reservations
    assert fresh.status is AccountStatus.ACTIVE
    events += decision.events
    assert replay(AccountId("prop"), events) == fresh
    # Trading on after the reset keeps every invariant, relative to the new starting balance.
    for command in after:
        try:
            step = handle(fresh, command)
        except CommandRejected:
            continue
        fresh = step.state
        events += step.events
    assert fresh.cash == sum((e.cash_delta for e in events), D(0))
    assert (
        fresh.realized_pnl + fresh.unrealized_pnl - fresh.fees + fresh.adjustments == fresh.equity - balance
    )
    assert fresh.high_watermark >= fresh.equity
    decoded = [
        decode_event(e.type, e.at, e.cash_delta, json.loads(json.dumps(event_payload(e)))) for e in events
    ]
    assert replay(AccountId("prop"), decoded) == fresh
