"""The open-positions projection (``positions``): one row per account and symbol held."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Never

import sqlalchemy as sa
from sqlalchemy.engine import Connection

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
from propdesk.accounting.positions import Position
from propdesk.accounting.state import AccountState
from propdesk.store._sql import insert_on_conflict
from propdesk.store.tables import positions


def _position_values(account_id: str, position: Position) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "symbol": position.symbol,
        "asset_class": position.instrument.asset_class.value,
        "multiplier": position.instrument.multiplier,
        "qty": position.qty,
        "cost": position.cost,
        "mark": position.mark,
        "opened_at": position.opened_at,
    }


def touched_symbols(events: Iterable[Event]) -> list[str] | None:
    """Symbols whose position rows the events may change (first-touched order); None for all."""
    seen: dict[str, None] = {}
    for event in events:
        match event:
            case FillApplied():
                seen[event.fill.symbol] = None
            case PositionsMarked():
                seen.update(dict.fromkeys(event.prices))
            case FillVoided():
                seen[event.instrument.symbol] = None
            case SplitApplied():
                seen[event.symbol] = None
            case SymbolChanged():
                seen[event.old_symbol] = None
                seen[event.new_symbol] = None
            case AccountReset():
                return None  # it archives every position held
            case (
                AccountCreated()
                | IncidentRecorded()
                | OptionSettled()
                | AccountStarted()
                | FundsReserved()
                | ReservationReleased()
                | CashAdjusted()
                | StatusChanged()
                | TradingDayStarted()
                | AccountLiquidated()
                | DividendPaid()
            ):
                pass  # these leave positions alone (a liquidation's closes are its fills)
            case _:
                return _every_position(event)
    return list(seen)


def _every_position(event: Never) -> None:
    """A kind not in the union (mypy refuses the call for any member, so each is handled above).

    At run time it can only be a ledger written by newer code: save then rewrites every position
    row from the state, slower and never wrong.
    """
    return


class PositionStore:
    """Writing the positions projection (a part of :class:`AccountRepository`)."""

    _conn: Connection

    def _write_positions(self, account_id: str, state: AccountState, symbols: Sequence[str] | None) -> None:
        if symbols is None:
            stored = self._conn.execute(
                sa.select(positions.c.symbol).where(positions.c.account_id == account_id)
            ).scalars()
            symbols = sorted(set(stored) | set(state.positions))
        held = [state.positions[s] for s in symbols if s in state.positions]
        gone = [s for s in symbols if s not in state.positions]
        insert_on_conflict(
            self._conn,
            positions,
            [_position_values(account_id, p) for p in held],
            keys=("account_id", "symbol"),
            update=("asset_class", "multiplier", "qty", "cost", "mark", "opened_at"),
        )
        if gone:
            self._conn.execute(
                sa.delete(positions).where(positions.c.account_id == account_id, positions.c.symbol.in_(gone))
            )
