"""Invariants of the kernel over random fills, marks, reservations and adjustments (hypothesis)."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from propdesk.accounting.events import Event, decode_event, event_payload
from propdesk.accounting.kernel import (
    AdjustCash,
    ApplyFill,
    Command,
    CommandRejected,
    MarkToPrices,
    ReleaseReservation,
    ReserveForOrder,
    Start,
    VoidFill,
    handle,
    replay,
)
from propdesk.accounting.state import AccountState
from propdesk.model.fills import Fill
from propdesk.model.ids import AccountId
from propdesk.model.instruments import Instrument, crypto_pair, equity, future, option
from propdesk.model.orders import Side
from tests.factories import T0, at, make_fill

INSTRUMENTS: list[Instrument] = [
    equity("AAPL"),
    crypto_pair("BTC/USD"),
    future("MES"),
    future("GC"),
    option("SPY261218C00500000"),
]

prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(6000), places=2)
quantities = st.decimals(min_value=Decimal("0.000000001"), max_value=Decimal(50), places=9)
fees = st.decimals(min_value=Decimal(0), max_value=Decimal(5), places=2)


@st.composite
def commands(draw: st.DrawFn) -> list[Command]:
    result: list[Command] = []
    for step in range(draw(st.integers(min_value=1, max_value=40))):
        kind = draw(st.sampled_from(["fill", "fill", "fill", "mark", "reserve", "release", "adjust"]))
        instrument = draw(st.sampled_from(INSTRUMENTS))
        if kind == "fill":
            quantity = draw(quantities)
            if instrument.lot_size >= 1:
                quantity = Decimal(draw(st.integers(min_value=1, max_value=5)))
            fill = make_fill(
                instrument, draw(st.sampled_from(list(Side))), quantity, draw(prices), fee=draw(fees)
            )
            result.append(ApplyFill(at=at(step), fill=fill))
        elif kind == "mark":
            symbols = draw(st.lists(st.sampled_from(INSTRUMENTS), max_size=3))
            result.append(MarkToPrices(at=at(step), prices={i.symbol: draw(prices) for i in symbols}))
        elif kind == "reserve":
            amount = draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal(50000), places=2))
            result.append(ReserveForOrder(at=at(step), order_id=f"o{draw(st.integers(0, 5))}", amount=amount))
        elif kind == "release":
            part = draw(st.none() | st.decimals(min_value=Decimal("0.01"), max_value=Decimal(500), places=2))
            result.append(
                ReleaseReservation(
                    at=at(step), order_id=f"o{draw(st.integers(0, 5))}", reason="t", amount=part
                )
            )
        else:
            amount = draw(st.decimals(min_value=Decimal(-100), max_value=Decimal(100), places=2))
            result.append(AdjustCash(at=at(step), amount=amount, reason="test"))
    return result


def run(script: list[Command], starting_cash: Decimal) -> tuple[AccountState, list[Event]]:
    state = AccountState(account_id=AccountId("prop"))
    start = handle(state, Start(at=T0, starting_cash=starting_cash, currency="USD", leverage=Decimal(5)))
    state, events = start.state, list(start.events)
    watermarks = [state.high_watermark]
    for command in script:
        try:
            decision = handle(state, command)
        except CommandRejected:
            continue
        state = decision.state
        events.extend(decision.events)
        watermarks.append(state.high_watermark)
    assert watermarks == sorted(watermarks), "high watermark decreased"
    return state, events


@settings(max_examples=150, deadline=None)
@given(commands(), st.decimals(min_value=Decimal(1000), max_value=Decimal(10_000_000), places=2))
def test_books_balance_after_any_sequence(script: list[Command], starting_cash: Decimal) -> None:
    state, events = run(script, starting_cash)

    assert state.cash == sum((e.cash_delta for e in events), Decimal(0))
    assert state.cash == starting_cash + sum((e.cash_delta for e in events[1:]), Decimal(0))

    signed: dict[str, Decimal] = defaultdict(Decimal)
    for command in script:
        if isinstance(command, ApplyFill) and any(getattr(e, "fill", None) is command.fill for e in events):
            signed[command.fill.symbol] += command.fill.signed_qty
    assert {s: q for s, q in signed.items() if q} == {s: p.qty for s, p in state.positions.items()}

    paid = sum((p.market_value for p in state.positions.values() if p.instrument.pays_notional), Decimal(0))
    futures_pnl = sum(
        (p.unrealized_pnl for p in state.positions.values() if not p.instrument.pays_notional), Decimal(0)
    )
    assert state.equity == state.cash + paid + futures_pnl

    assert (
        state.realized_pnl + state.unrealized_pnl - state.fees + state.adjustments
        == state.equity - starting_cash
    )
    assert state.high_watermark >= state.equity
    assert state.reserved_for_orders == sum(state.reservations.values(), Decimal(0))
    assert all(amount > 0 for amount in state.reservations.values())

    assert replay(AccountId("prop"), events) == state


@settings(max_examples=75, deadline=None)
@given(commands())
def test_events_survive_a_json_round_trip(script: list[Command]) -> None:
    state, events = run(script, Decimal(100000))
    decoded = [
        decode_event(e.type, e.at, e.cash_delta, json.loads(json.dumps(event_payload(e)))) for e in events
    ]
    assert decoded == events
    assert replay(AccountId("prop"), decoded) == state


@st.composite
def fill_scripts(draw: st.DrawFn) -> list[Fill]:
    instrument = draw(st.sampled_from(INSTRUMENTS))
    fills = []
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        quantity = (
            Decimal(draw(st.integers(min_value=1, max_value=5)))
            if instrument.lot_size >= 1
            else draw(quantities)
        )
        fills.append(
            make_fill(instrument, draw(st.sampled_from(list(Side))), quantity, draw(prices), fee=draw(fees))
        )
    return fills


def apply_all(fills: list[Fill]) -> AccountState:
    state = AccountState(account_id=AccountId("v"))
    state = handle(state, Start(at=T0, starting_cash=Decimal(10_000_000), leverage=Decimal(5))).state
    for fill in fills:
        state = handle(state, ApplyFill(at=T0, fill=fill)).state
    return state


@settings(max_examples=150, deadline=None)
@given(fill_scripts(), st.data())
def test_voiding_a_fill_leaves_the_books_as_if_it_never_happened(
    fills: list[Fill], data: st.DataObject
) -> None:
    state = apply_all(fills)
    voided = data.draw(st.sampled_from(fills))
    decision = handle(state, VoidFill(at=at(99), fill_id=voided.fill_id, history=fills, reason="test"))
    after = decision.state
    expected = apply_all([f for f in fills if f is not voided])

    assert after.cash == expected.cash
    assert after.realized_pnl == expected.realized_pnl
    assert after.fees == expected.fees
    assert {s: (p.qty, p.cost) for s, p in after.positions.items()} == {
        s: (p.qty, p.cost) for s, p in expected.positions.items()
    }
    assert (
        after.realized_pnl + after.unrealized_pnl - after.fees + after.adjustments
        == after.equity - after.starting_cash
    )
    events = [*replay_events(fills), *decision.events]
    assert replay(AccountId("v"), events) == after


def replay_events(fills: list[Fill]) -> list[Event]:
    state = AccountState(account_id=AccountId("v"))
    decision = handle(state, Start(at=T0, starting_cash=Decimal(10_000_000), leverage=Decimal(5)))
    events, state = list(decision.events), decision.state
    for fill in fills:
        decision = handle(state, ApplyFill(at=T0, fill=fill))
        events.extend(decision.events)
        state = decision.state
    return events


def test_a_void_with_a_history_that_does_not_match_the_position_is_refused() -> None:
    fills = [make_fill(INSTRUMENTS[0], Side.BUY, "2", "10"), make_fill(INSTRUMENTS[0], Side.BUY, "3", "11")]
    state = apply_all(fills)
    with pytest.raises(CommandRejected) as info:
        handle(state, VoidFill(at=T0, fill_id=fills[0].fill_id, history=fills[:1], reason="x"))
    assert info.value.code == "history_mismatch"
