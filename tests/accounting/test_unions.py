"""Commands and events are closed unions, and the event codec knows every event kind.

mypy checks that every ``match`` over them is exhaustive; these tests check the runtime side: each
member of :data:`Event` has a codec entry under its own name, and a ledger holding every kind
encodes to JSON and decodes back to equal events (so a new kind without a working codec fails).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import get_args

from propdesk.accounting.events import EVENT_TYPES, Event, OptionSettled, decode_event, event_payload
from propdesk.accounting.kernel import (
    AdjustCash,
    ApplyFill,
    ApplySplit,
    ChangeStatus,
    ChangeSymbol,
    Command,
    CreateAccount,
    Liquidate,
    MarkToPrices,
    PayDividend,
    RecordIncident,
    ReleaseReservation,
    ReserveForOrder,
    ResetAccount,
    SettleOption,
    Start,
    StartTradingDay,
    VoidFill,
    handle,
    replay,
)
from propdesk.accounting.state import AccountState, AccountStatus
from propdesk.model.ids import AccountId
from propdesk.model.instruments import option
from propdesk.model.orders import Side
from tests.db import AAPL, MES, T0, fill

CALL = option("AAPL260116C00150000")
AAPX = replace(AAPL, symbol="AAPX")  # AAPL after the script's name change


def _every_command() -> list[Command]:
    """A script that issues every command kind once or more, so its ledger holds every event kind."""
    t = [T0 + timedelta(minutes=m) for m in range(20)]
    f1 = fill(AAPL, Side.BUY, "10", "150", fee="0.1", fill_id="f1", when=t[2])
    f2 = fill(AAPL, Side.BUY, "5", "151", fill_id="f2", when=t[3])
    return [
        CreateAccount(at=t[0], mode="prop", currency="USD", starting_balance=Decimal(100000)),
        Start(at=t[1], starting_cash=Decimal(100000)),
        ApplyFill(at=t[2], fill=f1),
        ApplyFill(at=t[3], fill=f2),
        VoidFill(at=t[4], fill_id="f2", history=(f1, f2), reason="bad print"),
        MarkToPrices(at=t[5], prices={"AAPL": Decimal("152.5")}),
        ReserveForOrder(at=t[6], order_id="o-1", amount=Decimal(1000)),
        ReleaseReservation(at=t[7], order_id="o-1", reason="partial fill", amount=Decimal(400)),
        AdjustCash(at=t[8], amount=Decimal("-0.5"), reason="fee correction"),
        StartTradingDay(at=t[9], trading_day=date(2026, 1, 6)),
        RecordIncident(at=t[10], kind="mark_failed", message="no quote"),
        ChangeStatus(at=t[11], to=AccountStatus.PAUSED, reason="operator"),
        ChangeStatus(at=t[12], to=AccountStatus.ACTIVE, reason="operator"),
        ApplyFill(at=t[13], fill=fill(MES, Side.SELL, "1", "5000", fill_id="f3", when=t[13])),
        PayDividend(at=t[14], action_id="a-1", symbol="AAPL", rate=Decimal("0.24"), ex_date=date(2026, 1, 7)),
        ApplySplit(
            at=t[15],
            action_id="a-2",
            symbol="AAPL",
            old_rate=Decimal(1),
            new_rate=Decimal(2),
            ex_date=date(2026, 1, 8),
        ),
        ChangeSymbol(
            at=t[16], action_id="a-3", old_symbol="AAPL", new_symbol="AAPX", ex_date=date(2026, 1, 9)
        ),
        Liquidate(
            at=t[17],
            fills=(
                fill(AAPX, Side.SELL, "20", "75", fill_id="f4", when=t[17]),
                fill(MES, Side.BUY, "1", "5001", fill_id="f5", when=t[17]),
            ),
            reason="floor breached",
        ),
        ResetAccount(at=t[18], starting_balance=Decimal(50000), reason="bought reset"),
        ApplyFill(at=t[19], fill=fill(CALL, Side.BUY, "1", "2", fill_id="f6", when=t[19])),
        SettleOption(
            at=t[19],
            fills=(
                fill(CALL, Side.SELL, "1", "0", fill_id="f7", when=t[19]),
                fill(AAPL, Side.BUY, "100", "150", fill_id="f8", when=t[19]),
            ),
            record=OptionSettled(
                at=t[19],
                key="acct:AAPL260116C00150000:2026-01-16",
                symbol=CALL.symbol,
                underlying="AAPL",
                action="exercise",
                qty=Decimal(1),
                strike=Decimal(150),
                right="call",
                trading_date=date(2026, 1, 16),
                settlement_price=Decimal("160.5"),
                settlement_source="daily_bar_close",
                fill_ids=("f7", "f8"),
            ),
        ),
    ]


def _ledger() -> tuple[AccountState, list[Event]]:
    state = AccountState(account_id=AccountId("acct"))
    events: list[Event] = []
    for command in _every_command():
        decision = handle(state, command)
        state = decision.state
        events.extend(decision.events)
    return state, events


def test_the_codec_table_is_the_event_union() -> None:
    members = get_args(Event)
    assert set(EVENT_TYPES.values()) == set(members)
    # one distinct stored name per kind, each the key its class is filed under
    assert len(EVENT_TYPES) == len(members)
    assert all(EVENT_TYPES[cls.type] is cls for cls in members)


def test_every_event_kind_round_trips_through_the_codec() -> None:
    state, events = _ledger()
    assert {type(e) for e in events} == set(get_args(Event)), "the script must produce every event kind"
    decoded = [
        decode_event(e.type, e.at, e.cash_delta, json.loads(json.dumps(event_payload(e)))) for e in events
    ]
    assert decoded == events
    assert replay(AccountId("acct"), decoded) == state


def test_every_command_kind_is_exercised_by_the_script() -> None:
    assert {type(c) for c in _every_command()} == set(get_args(Command))
