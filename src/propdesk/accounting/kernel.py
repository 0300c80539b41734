# Over ~500 lines on purpose: decide and evolve side by side, one match arm per command and per event, are the reducer.
"""The Account kernel: ``(state, command) -> (new state, events)``, pure and deterministic.

``decide`` validates a command against the state and returns the events it causes (or raises
:class:`CommandRejected`, changing nothing); ``evolve`` applies one event. The live service, replay
and recompute all use these two functions, so an account rebuilt by folding its ledger from zero
is identical to the one the service stored. Time comes in on each command (read from the
injected clock by the caller), never from the system clock.

Commands (:data:`Command`) and events (:data:`propdesk.accounting.events.Event`) are closed unions
of frozen dataclasses; ``decide`` and ``evolve`` ``match`` them and end in ``assert_never``, so
mypy rejects a new kind until each of them (and every other fold over events) handles it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import TypeAlias, assert_never

from propdesk.accounting.corporate_actions import dividend_amount, split_position
from propdesk.accounting.events import (
    AccountCreated,
    AccountLiquidated,
    AccountReset,
    AccountStarted,
    CashAdjusted,
    DividendPaid,
    Event,
    FillApplied,
    FillVoided,
    FundsReserved,
    IncidentRecorded,
    OptionSettled,
    PositionsMarked,
    ReservationReleased,
    SplitApplied,
    StatusChanged,
    SymbolChanged,
    TradingDayStarted,
)
from propdesk.accounting.positions import Position, apply_fill, replay_fills
from propdesk.accounting.state import TRANSITIONS, AccountState, AccountStatus
from propdesk.model.fills import Fill
from propdesk.model.ids import AccountId
from propdesk.model.numbers import ONE, ZERO


class CommandRejected(Exception):
    """The kernel refused a command; ``code`` is stable for APIs, the state is unchanged."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- commands ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandBase:
    """The field every command has: its time, read from the injected clock by the caller.

    The commands themselves form the closed union :data:`Command`.
    """

    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateAccount(CommandBase):
    """Open the ledger of a new (pending) account."""

    mode: str
    currency: str
    starting_balance: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class VoidFill(CommandBase):
    """Take back fill ``fill_id``; ``history`` is every live fill of its symbol in applied order."""

    fill_id: str
    history: Sequence[Fill]
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordIncident(CommandBase):
    kind: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Start(CommandBase):
    starting_cash: Decimal
    currency: str = "USD"
    leverage: Decimal = ONE


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyFill(CommandBase):
    fill: Fill


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkToPrices(CommandBase):
    prices: Mapping[str, Decimal]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReserveForOrder(CommandBase):
    order_id: str
    amount: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseReservation(CommandBase):
    """Release all of an order's reservation, or ``amount`` of it (partial fills)."""

    order_id: str
    reason: str
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AdjustCash(CommandBase):
    amount: Decimal
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeStatus(CommandBase):
    to: AccountStatus
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StartTradingDay(CommandBase):
    trading_day: date


@dataclass(frozen=True, slots=True, kw_only=True)
class Liquidate(CommandBase):
    """Close every position with ``fills`` (priced by execution), release reservations, end."""

    fills: Sequence[Fill]
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetAccount(CommandBase):
    """Start the account over at ``starting_balance``: release every reservation, apply ``fills``
    if any are given (priced by execution, like a liquidation's), then
    :class:`~propdesk.accounting.events.AccountReset`, which archives every position still held
    (no price needed). Allowed from any started status."""

    starting_balance: Decimal
    reason: str
    fills: Sequence[Fill] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SettleOption(CommandBase):
    """Settle an option position at its expiry: apply ``fills`` (the option leaving the book and
    any delivery, priced by the caller), then record ``record``. Unlike :class:`ApplyFill` it is
    taken in any started status: a broker settles an expiring contract whatever the account's state.
    """

    fills: Sequence[Fill]
    record: OptionSettled


@dataclass(frozen=True, slots=True, kw_only=True)
class PayDividend(CommandBase):
    """Credit (long) or debit (short) the dividend of ``symbol`` on the position held; no-op if flat."""

    action_id: str
    symbol: str
    rate: Decimal
    ex_date: date


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplySplit(CommandBase):
    """Split the position in ``symbol`` by ``new_rate / old_rate``; fractions paid in cash when
    ``whole_shares`` (at ``lieu_price``, default the post-split mark)."""

    action_id: str
    symbol: str
    old_rate: Decimal
    new_rate: Decimal
    ex_date: date
    whole_shares: bool = True
    lieu_price: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeSymbol(CommandBase):
    """Move the position in ``old_symbol`` to ``new_symbol``; no-op if flat."""

    action_id: str
    old_symbol: str
    new_symbol: str
    ex_date: date


# The closed union of commands: ``decide`` matches it exhaustively (``assert_never``), so mypy
# reports a new command that the kernel does not handle.
Command: TypeAlias = (
    CreateAccount
    | VoidFill
    | RecordIncident
    | Start
    | ApplyFill
    | MarkToPrices
    | ReserveForOrder
    | ReleaseReservation
    | AdjustCash
    | ChangeStatus
    | StartTradingDay
    | Liquidate
    | ResetAccount
    | SettleOption
    | PayDividend
    | ApplySplit
    | ChangeSymbol
)


# --- decide --------------------------------------------------------------------------------------


def _require(condition: bool, code: str, message: str) -> None:
    if not condition:
        raise CommandRejected(code, message)


def _require_active(state: AccountState) -> None:
    _require(
        state.status is AccountStatus.ACTIVE,
        "account_not_active",
        f"account {state.account_id} is {state.status.value}, not active",
    )


def _fill_event(state: AccountState, fill: Fill, at: datetime) -> FillApplied:
    effect = apply_fill(state.positions.get(fill.symbol), fill)
    return FillApplied(
        at=at,
        cash_delta=effect.cash_delta,
        fill=fill,
        realized_pnl=effect.realized_pnl,
        position_qty_after=effect.position.qty if effect.position else ZERO,
    )


def _release_all(state: AccountState, at: datetime, reason: str) -> list[Event]:
    return [
        ReservationReleased(at=at, order_id=order_id, amount=amount, reason=reason)
        for order_id, amount in sorted(state.reservations.items())
    ]


def decide(state: AccountState, command: Command) -> list[Event]:
    """The events ``command`` causes on ``state``; raises :class:`CommandRejected` if it may not."""
    at = command.at
    match command:
        case CreateAccount():
            _require(state.seq == 0, "account_exists", f"account {state.account_id} already has a ledger")
            return [
                AccountCreated(
                    at=at,
                    mode=command.mode,
                    currency=command.currency,
                    starting_balance=command.starting_balance,
                )
            ]
        case VoidFill():
            return [_void_event(state, command)]
        case RecordIncident():
            _require(bool(command.kind.strip()), "invalid_incident", "an incident needs a kind")
            return [IncidentRecorded(at=at, kind=command.kind, message=command.message)]
        case Start():
            _require(
                state.status is AccountStatus.PENDING,
                "account_already_started",
                f"account is {state.status.value}",
            )
            _require(command.starting_cash > 0, "invalid_amount", "starting cash must be positive")
            _require(command.leverage > 0, "invalid_amount", "leverage must be positive")
            return [
                AccountStarted(
                    at=at,
                    cash_delta=command.starting_cash,
                    currency=command.currency,
                    leverage=command.leverage,
                ),
                StatusChanged(
                    at=at, from_status=state.status, to_status=AccountStatus.ACTIVE, reason="started"
                ),
            ]
        case ApplyFill():
            _require_active(state)
            return [_fill_event(state, command.fill, at)]
        case MarkToPrices():
            _require(state.status.is_open, "account_not_open", f"account is {state.status.value}")
            prices = {
                s: p
                for s, p in sorted(command.prices.items())
                if s in state.positions and state.positions[s].mark != p
            }
            if not prices:
                return []  # nothing held moved: no ledger row for a no-op sweep
            _require(
                all(p >= 0 for p in prices.values()),
                "invalid_price",
                "mark prices must not be negative",
            )
            marked = evolve_positions_marked(state, prices)
            return [
                PositionsMarked(
                    at=at,
                    prices=prices,
                    equity_after=marked.equity,
                    unrealized_pnl_after=marked.unrealized_pnl,
                )
            ]
        case ReserveForOrder():
            _require_active(state)
            _require(command.amount > 0, "invalid_amount", "a reservation must be positive")
            _require(
                command.order_id not in state.reservations,
                "reservation_exists",
                f"order {command.order_id} already holds a reservation",
            )
            available = state.available_capital
            _require(
                command.amount <= available,
                "insufficient_buying_power",
                f"reservation {command.amount} exceeds available capital {available}",
            )
            return [FundsReserved(at=at, order_id=command.order_id, amount=command.amount)]
        case ReleaseReservation():
            held = state.reservations.get(command.order_id)
            _require(
                held is not None,
                "unknown_reservation",
                f"order {command.order_id} holds no reservation",
            )
            assert held is not None
            amount = held if command.amount is None else command.amount
            _require(0 < amount <= held, "invalid_amount", f"release {amount} is not within the held {held}")
            return [
                ReservationReleased(at=at, order_id=command.order_id, amount=amount, reason=command.reason)
            ]
        case AdjustCash():
            _require(
                state.status is not AccountStatus.PENDING,
                "account_not_started",
                "account is not started",
            )
            _require(command.amount != 0, "invalid_amount", "an adjustment must not be zero")
            _require(bool(command.reason.strip()), "reason_required", "a cash adjustment needs a reason")
            return [CashAdjusted(at=at, cash_delta=command.amount, reason=command.reason)]
        case ChangeStatus():
            _require(
                command.to in TRANSITIONS[state.status],
                "invalid_transition",
                f"account cannot go from {state.status.value} to {command.to.value}",
            )
            _require(command.to is not AccountStatus.LIQUIDATED, "use_liquidate", "liquidate with Liquidate")
            _require(state.status is not AccountStatus.PENDING, "use_start", "start an account with Start")
            _require(
                command.to is not AccountStatus.COMPLETED or not state.reservations,
                "open_reservations",
                "release open orders' reservations before completing",
            )
            return [
                StatusChanged(at=at, from_status=state.status, to_status=command.to, reason=command.reason)
            ]
        case StartTradingDay():
            _require(state.status.is_open, "account_not_open", f"account is {state.status.value}")
            _require(
                state.trading_day is None or command.trading_day > state.trading_day,
                "trading_day_not_after",
                f"trading day {command.trading_day} is not after {state.trading_day}",
            )
            return [
                TradingDayStarted(
                    at=at,
                    trading_day=command.trading_day,
                    day_start_equity=state.equity,
                    day_start_balance=state.balance,
                )
            ]
        case Liquidate():
            _require(
                AccountStatus.LIQUIDATED in TRANSITIONS[state.status],
                "invalid_transition",
                f"account cannot go from {state.status.value} to liquidated",
            )
            events: list[Event] = _release_all(state, at, "liquidation")
            working = state
            for fill in command.fills:
                event = _fill_event(working, fill, at)
                events.append(event)
                working = evolve(working, event)
            _require(
                not working.positions,
                "liquidation_incomplete",
                f"liquidation fills leave open positions: {', '.join(sorted(working.positions))}",
            )
            events.append(
                StatusChanged(
                    at=at,
                    from_status=state.status,
                    to_status=AccountStatus.LIQUIDATED,
                    reason=command.reason,
                )
            )
            events.append(AccountLiquidated(at=at, reason=command.reason, equity_after=working.equity))
            return events
        case ResetAccount():
            return _reset_events(state, command)
        case SettleOption():
            _require(
                state.status is not AccountStatus.PENDING,
                "account_not_started",
                f"account {state.account_id} is pending",
            )
            settled: list[Event] = []
            current = state
            for fill in command.fills:
                event = _fill_event(current, fill, at)
                settled.append(event)
                current = evolve(current, event)
            moved = sum((e.cash_delta for e in settled), ZERO)
            settled.append(replace(command.record, at=at, cash_delta=ZERO, net_amount=moved))
            return settled
        case PayDividend() | ApplySplit() | ChangeSymbol():
            return _corporate_action_events(state, command)
        case _:
            assert_never(command)


def _corporate_action_events(
    state: AccountState, command: PayDividend | ApplySplit | ChangeSymbol
) -> list[Event]:
    """The event of one corporate action on the position it touches (none when flat)."""
    _require(state.status.is_open, "account_not_open", f"account is {state.status.value}")
    at = command.at
    match command:
        case PayDividend():
            _require(command.rate > 0, "invalid_amount", "a dividend rate must be positive")
            held = state.positions.get(command.symbol)
            if held is None:
                return []
            return [
                DividendPaid(
                    at=at,
                    cash_delta=dividend_amount(held, command.rate),
                    action_id=command.action_id,
                    symbol=command.symbol,
                    qty=held.qty,
                    rate=command.rate,
                    ex_date=command.ex_date,
                )
            ]
        case ApplySplit():
            _require(
                command.old_rate > 0 and command.new_rate > 0,
                "invalid_amount",
                "split rates must be positive",
            )
            held = state.positions.get(command.symbol)
            if held is None:
                return []
            effect = split_position(
                held,
                command.old_rate,
                command.new_rate,
                whole_shares=command.whole_shares,
                lieu_price=command.lieu_price,
            )
            return [
                SplitApplied(
                    at=at,
                    cash_delta=effect.cash_delta,
                    action_id=command.action_id,
                    symbol=command.symbol,
                    old_rate=command.old_rate,
                    new_rate=command.new_rate,
                    ex_date=command.ex_date,
                    qty_before=held.qty,
                    qty_after=effect.qty_after,
                    cost_after=effect.cost_after,
                    mark_after=effect.mark_after,
                    lieu_qty=effect.lieu_qty,
                    lieu_price=effect.lieu_price,
                    realized_pnl=effect.realized_pnl,
                )
            ]
        case ChangeSymbol():
            if command.old_symbol not in state.positions:
                return []
            _require(
                command.new_symbol not in state.positions,
                "symbol_held",
                f"the account already holds {command.new_symbol}",
            )
            return [
                SymbolChanged(
                    at=at,
                    action_id=command.action_id,
                    old_symbol=command.old_symbol,
                    new_symbol=command.new_symbol,
                    ex_date=command.ex_date,
                )
            ]
        case _:
            assert_never(command)


def _reset_events(state: AccountState, command: ResetAccount) -> list[Event]:
    _require(
        state.status is not AccountStatus.PENDING,
        "account_not_started",
        f"account {state.account_id} is pending: start it instead of resetting it",
    )
    _require(command.starting_balance > 0, "invalid_amount", "the starting balance must be positive")
    _require(bool(command.reason.strip()), "reason_required", "a reset needs a reason")
    events: list[Event] = _release_all(state, command.at, "reset")
    working = fold(state, events)
    for fill in command.fills:
        event = _fill_event(working, fill, command.at)
        events.append(event)
        working = evolve(working, event)
    events.append(
        AccountReset(
            at=command.at,
            cash_delta=command.starting_balance - working.cash,
            starting_balance=command.starting_balance,
            from_status=state.status,
            reason=command.reason,
            archived=tuple(p for _, p in sorted(working.positions.items())),
        )
    )
    return events


def _void_event(state: AccountState, command: VoidFill) -> FillVoided:
    """The correction that makes ``state`` as if fill ``command.fill_id`` had never happened."""
    _require(
        state.status.is_open,
        "account_not_open",
        f"account is {state.status.value}: fills of a pending or ended account cannot be voided",
    )
    voided = [f for f in command.history if f.fill_id == command.fill_id]
    _require(len(voided) == 1, "unknown_fill", f"fill {command.fill_id} is not in the symbol's live fills")
    fill = voided[0]
    symbols = {f.symbol for f in command.history}
    _require(symbols == {fill.symbol}, "invalid_history", "the history must hold one symbol's fills")
    with_fill = replay_fills(command.history)
    current = state.positions.get(fill.symbol)
    _require(
        (with_fill.position is None and current is None)
        or (
            with_fill.position is not None
            and current is not None
            and (with_fill.position.qty, with_fill.position.cost) == (current.qty, current.cost)
        ),
        "history_mismatch",
        f"the fills given for {fill.symbol} do not add up to the position held",
    )
    without = replay_fills(f for f in command.history if f.fill_id != command.fill_id)
    after = without.position
    mark = current.mark if current is not None else fill.price
    return FillVoided(
        at=command.at,
        cash_delta=without.cash - with_fill.cash,
        fill_id=fill.fill_id,
        instrument=fill.instrument,
        position_qty=after.qty if after else ZERO,
        position_cost=after.cost if after else ZERO,
        position_mark=mark,
        position_opened_at=after.opened_at if after else None,
        realized_pnl_delta=without.realized_pnl - with_fill.realized_pnl,
        fee_refund=with_fill.fees - without.fees,
        reason=command.reason,
    )


# --- evolve --------------------------------------------------------------------------------------


def evolve_positions_marked(state: AccountState, prices: Mapping[str, Decimal]) -> AccountState:
    positions = dict(state.positions)
    for symbol, mark in prices.items():
        positions[symbol] = replace(positions[symbol], mark=mark)
    return replace(state, positions=MappingProxyType(positions))


def _with_watermark(state: AccountState) -> AccountState:
    if state.status is AccountStatus.PENDING:
        return state
    equity = state.equity
    return state if equity <= state.high_watermark else replace(state, high_watermark=equity)


def evolve(state: AccountState, event: Event) -> AccountState:
    """Apply one event; the only place state changes."""
    state = replace(state, cash=state.cash + event.cash_delta, seq=state.seq + 1, updated_at=event.at)
    match event:
        case AccountStarted():
            state = replace(
                state,
                currency=event.currency,
                leverage=event.leverage,
                starting_cash=event.cash_delta,
                high_watermark=event.cash_delta,
                day_start_equity=event.cash_delta,
                day_start_balance=event.cash_delta,
            )
        case FillApplied():
            effect = apply_fill(state.positions.get(event.fill.symbol), event.fill)
            positions: dict[str, Position] = dict(state.positions)
            if effect.position is None:
                positions.pop(event.fill.symbol, None)
            else:
                positions[event.fill.symbol] = effect.position
            state = replace(
                state,
                positions=MappingProxyType(positions),
                realized_pnl=state.realized_pnl + effect.realized_pnl,
                fees=state.fees + event.fill.fee,
            )
        case PositionsMarked():
            state = evolve_positions_marked(state, event.prices)
        case FundsReserved():
            reservations = dict(state.reservations)
            reservations[event.order_id] = event.amount
            state = replace(state, reservations=MappingProxyType(reservations))
        case ReservationReleased():
            reservations = dict(state.reservations)
            left = reservations[event.order_id] - event.amount
            if left:
                reservations[event.order_id] = left
            else:
                del reservations[event.order_id]
            state = replace(state, reservations=MappingProxyType(reservations))
        case CashAdjusted():
            state = replace(state, adjustments=state.adjustments + event.cash_delta)
        case StatusChanged():
            state = replace(state, status=event.to_status)
        case FillVoided():
            positions = dict(state.positions)
            symbol = event.instrument.symbol
            if event.position_qty == 0 or event.position_opened_at is None:
                positions.pop(symbol, None)
            else:
                positions[symbol] = Position(
                    event.instrument,
                    event.position_qty,
                    event.position_cost,
                    event.position_mark,
                    event.position_opened_at,
                )
            state = replace(
                state,
                positions=MappingProxyType(positions),
                realized_pnl=state.realized_pnl + event.realized_pnl_delta,
                fees=state.fees - event.fee_refund,
            )
        case AccountReset():
            start = event.starting_balance
            state = replace(
                state,
                positions=MappingProxyType({}),
                status=AccountStatus.ACTIVE,
                starting_cash=start,
                realized_pnl=ZERO,
                fees=ZERO,
                adjustments=ZERO,
                high_watermark=start,
                day_start_equity=start,
                day_start_balance=start,
            )
        case TradingDayStarted():
            state = replace(
                state,
                trading_day=event.trading_day,
                day_start_equity=event.day_start_equity,
                day_start_balance=event.day_start_balance,
            )
        case SplitApplied():
            positions = dict(state.positions)
            held = positions[event.symbol]
            if event.qty_after == 0:
                del positions[event.symbol]
            else:
                positions[event.symbol] = replace(
                    held, qty=event.qty_after, cost=event.cost_after, mark=event.mark_after
                )
            state = replace(
                state,
                positions=MappingProxyType(positions),
                realized_pnl=state.realized_pnl + event.realized_pnl,
            )
        case SymbolChanged():
            positions = dict(state.positions)
            held = positions.pop(event.old_symbol)
            positions[event.new_symbol] = replace(
                held, instrument=replace(held.instrument, symbol=event.new_symbol)
            )
            state = replace(state, positions=MappingProxyType(positions))
        case AccountCreated() | IncidentRecorded() | AccountLiquidated() | DividendPaid() | OptionSettled():
            # Facts without state of their own: only their cash delta (above) applies; a
            # liquidation's positions and status change come with its fills and StatusChanged; a
            # dividend is cash alone (income, not trading PnL); an option settlement's changes come
            # with its fills.
            pass
        case _:
            assert_never(event)
    return _with_watermark(state)


def fold(state: AccountState, events: Iterable[Event]) -> AccountState:
    for event in events:
        state = evolve(state, event)
    return state


@dataclass(frozen=True, slots=True)
class Decision:
    state: AccountState
    events: list[Event]


def handle(state: AccountState, command: Command) -> Decision:
    """Decide and apply: the new state and the events to append to the ledger."""
    events = decide(state, command)
    return Decision(fold(state, events), events)


def replay(account_id: AccountId, events: Iterable[Event]) -> AccountState:
    """The state of an account rebuilt from its ledger alone."""
    return fold(AccountState(account_id=account_id), events)
