"""The Account kernel: commands, rejections and the events they leave."""

from decimal import Decimal

import pytest

from propdesk.accounting.events import (
    AccountLiquidated,
    CashAdjusted,
    FillApplied,
    FundsReserved,
    PositionsMarked,
    ReservationReleased,
    StatusChanged,
)
from propdesk.accounting.kernel import (
    AdjustCash,
    ApplyFill,
    ChangeStatus,
    Command,
    CommandRejected,
    Liquidate,
    MarkToPrices,
    ReleaseReservation,
    ReserveForOrder,
    Start,
    StartTradingDay,
    handle,
    replay,
)
from propdesk.accounting.state import AccountState, AccountStatus
from propdesk.model.ids import AccountId
from propdesk.model.instruments import equity, future
from propdesk.model.orders import Side
from tests.factories import T0, at, make_fill, started_account

AAPL = equity("AAPL")
MES = future("MES")


def rejected(state: AccountState, command: object, code: str) -> None:
    with pytest.raises(CommandRejected) as info:
        handle(state, command)  # type: ignore[arg-type]
    assert info.value.code == code


def test_start_initializes_cash_anchors_and_watermark() -> None:
    state = started_account("100000")
    assert state.status is AccountStatus.ACTIVE
    assert state.cash == state.equity == state.high_watermark == Decimal(100000)
    assert state.day_start_equity == state.day_start_balance == Decimal(100000)
    assert state.seq == 2
    rejected(state, Start(at=T0, starting_cash=Decimal(1)), "account_already_started")
    rejected(
        AccountState(account_id=AccountId("x")), Start(at=T0, starting_cash=Decimal(0)), "invalid_amount"
    )


def test_fill_then_mark_moves_equity_and_watermark() -> None:
    state = started_account()
    state = handle(state, ApplyFill(at=at(1), fill=make_fill(AAPL, Side.BUY, "100", "10", fee="1"))).state
    assert state.cash == Decimal(98999)
    assert state.equity == Decimal(99999)
    decision = handle(state, MarkToPrices(at=at(2), prices={"AAPL": Decimal(12), "MSFT": Decimal(1)}))
    (event,) = decision.events
    assert isinstance(event, PositionsMarked)
    assert dict(event.prices) == {"AAPL": Decimal(12)}  # symbols not held are ignored
    assert decision.state.unrealized_pnl == Decimal(200)
    assert decision.state.equity == decision.state.high_watermark == Decimal(100199)
    assert handle(decision.state, MarkToPrices(at=at(3), prices={"MSFT": Decimal(1)})).events == []
    assert handle(decision.state, MarkToPrices(at=at(3), prices={"AAPL": Decimal(12)})).events == []
    lower = handle(decision.state, MarkToPrices(at=at(3), prices={"AAPL": Decimal(9)})).state
    assert lower.equity == Decimal(99899)
    assert lower.high_watermark == Decimal(100199)


def test_futures_equity_is_cash_plus_open_pnl() -> None:
    state = started_account("50000")
    state = handle(state, ApplyFill(at=at(1), fill=make_fill(MES, Side.BUY, "2", "5000"))).state
    assert state.cash == Decimal(50000)
    state = handle(state, MarkToPrices(at=at(2), prices={"MES": Decimal("4990.5")})).state
    assert state.unrealized_pnl == Decimal(-95)
    assert state.equity == Decimal(49905)
    assert state.balance == Decimal(50000)


def test_reservations_are_bounded_by_available_capital_and_resolve_once() -> None:
    state = started_account("10000", leverage="1")
    state = handle(state, ReserveForOrder(at=at(1), order_id="o1", amount=Decimal(6000))).state
    assert state.reserved_for_orders == Decimal(6000)
    assert state.available_capital == Decimal(4000)
    rejected(
        state,
        ReserveForOrder(at=at(2), order_id="o2", amount=Decimal("4000.01")),
        "insufficient_buying_power",
    )
    rejected(state, ReserveForOrder(at=at(2), order_id="o1", amount=Decimal(1)), "reservation_exists")
    partial = handle(
        state, ReleaseReservation(at=at(3), order_id="o1", reason="partial", amount=Decimal(1000))
    )
    assert isinstance(partial.events[0], ReservationReleased)
    assert partial.state.reservations["o1"] == Decimal(5000)
    released = handle(partial.state, ReleaseReservation(at=at(4), order_id="o1", reason="canceled")).state
    assert released.reserved_for_orders == 0
    assert "o1" not in released.reservations
    rejected(released, ReleaseReservation(at=at(5), order_id="o1", reason="again"), "unknown_reservation")
    rejected(
        partial.state,
        ReleaseReservation(at=at(5), order_id="o1", reason="x", amount=Decimal(5001)),
        "invalid_amount",
    )


def test_margin_used_by_positions_reduces_available_capital() -> None:
    state = started_account("100000", leverage="5")
    state = handle(state, ApplyFill(at=at(1), fill=make_fill(AAPL, Side.BUY, "1000", "100"))).state
    assert state.gross_exposure == Decimal(100000)
    assert state.margin_used == Decimal(20000)
    assert state.available_capital == Decimal(80000)
    assert state.buying_power == Decimal(400000)


def test_adjust_cash_needs_a_reason_and_is_recorded() -> None:
    state = started_account("1000")
    decision = handle(state, AdjustCash(at=at(1), amount=Decimal("-12.34"), reason="correction"))
    assert isinstance(decision.events[0], CashAdjusted)
    assert decision.state.cash == Decimal("987.66")
    assert decision.state.adjustments == Decimal("-12.34")
    rejected(state, AdjustCash(at=at(1), amount=Decimal(1), reason=" "), "reason_required")
    rejected(state, AdjustCash(at=at(1), amount=Decimal(0), reason="x"), "invalid_amount")


def test_status_transitions_follow_the_lifecycle() -> None:
    state = started_account()
    paused = handle(state, ChangeStatus(at=at(1), to=AccountStatus.PAUSED, reason="ops")).state
    rejected(paused, ApplyFill(at=at(2), fill=make_fill(AAPL, Side.BUY, "1", "1")), "account_not_active")
    resumed = handle(paused, ChangeStatus(at=at(2), to=AccountStatus.ACTIVE, reason="ops")).state
    done = handle(resumed, ChangeStatus(at=at(3), to=AccountStatus.COMPLETED, reason="passed")).state
    rejected(done, ChangeStatus(at=at(4), to=AccountStatus.ACTIVE, reason="again"), "invalid_transition")
    rejected(done, Liquidate(at=at(4), fills=[], reason="again"), "invalid_transition")
    rejected(
        AccountState(account_id=AccountId("p")),
        ChangeStatus(at=T0, to=AccountStatus.ACTIVE, reason="x"),
        "use_start",
    )


def test_liquidation_closes_everything_releases_reservations_and_ends_the_account() -> None:
    state = started_account()
    state = handle(state, ApplyFill(at=at(1), fill=make_fill(AAPL, Side.BUY, "100", "10"))).state
    state = handle(state, ApplyFill(at=at(1), fill=make_fill(MES, Side.SELL, "1", "5000"))).state
    state = handle(state, ReserveForOrder(at=at(2), order_id="o1", amount=Decimal(100))).state
    rejected(
        state,
        Liquidate(at=at(3), fills=[make_fill(AAPL, Side.SELL, "100", "9")], reason="drawdown"),
        "liquidation_incomplete",
    )
    closing = [make_fill(AAPL, Side.SELL, "100", "9"), make_fill(MES, Side.BUY, "1", "5001")]
    decision = handle(state, Liquidate(at=at(3), fills=closing, reason="drawdown"))
    kinds = [type(e) for e in decision.events]
    assert kinds == [ReservationReleased, FillApplied, FillApplied, StatusChanged, AccountLiquidated]
    final = decision.state
    assert final.status is AccountStatus.LIQUIDATED
    assert not final.positions
    assert not final.reservations
    assert final.realized_pnl == Decimal(-105)
    assert final.equity == final.cash == Decimal(100000 - 105)


def test_trading_day_anchors_take_the_equity_and_balance_at_the_boundary() -> None:
    state = started_account("50000")
    state = handle(state, ApplyFill(at=at(1), fill=make_fill(MES, Side.BUY, "1", "5000"))).state
    state = handle(state, MarkToPrices(at=at(2), prices={"MES": Decimal(5010)})).state
    from datetime import date

    state = handle(state, StartTradingDay(at=at(3), trading_day=date(2026, 1, 6))).state
    assert state.day_start_equity == Decimal(50050)
    assert state.day_start_balance == Decimal(50000)
    rejected(state, StartTradingDay(at=at(4), trading_day=date(2026, 1, 6)), "trading_day_not_after")


def test_replay_of_the_events_reproduces_the_state() -> None:
    state = AccountState(account_id=AccountId("r"))
    events = []
    commands: list[Command] = [
        Start(at=T0, starting_cash=Decimal(1000), leverage=Decimal(2)),
        ApplyFill(at=at(1), fill=make_fill(AAPL, Side.BUY, "3", "10.01", fee="0.01")),
        ReserveForOrder(at=at(2), order_id="o", amount=Decimal(5)),
        MarkToPrices(at=at(3), prices={"AAPL": Decimal("10.5")}),
        ApplyFill(at=at(4), fill=make_fill(AAPL, Side.SELL, "1", "10.7")),
    ]
    for command in commands:
        decision = handle(state, command)
        state = decision.state
        events.extend(decision.events)
    assert isinstance(events[3], FundsReserved)
    assert replay(AccountId("r"), events) == state
