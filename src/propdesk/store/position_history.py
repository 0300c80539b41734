"""Position history (``position_history``): one record per position's life, kept once it closes.

A record opens with the fill that opens a position and follows every fill of it: adds raise the
entry sums (and the largest size), reductions the exit sums and the realized PnL. It closes with
the fill that leaves the symbol flat, ``closed_at`` being that fill's time; a fill that flips the
side closes the record (its fee and realized PnL go to it) and opens the next one with the rest
of its quantity. A split re-bases the open record (sizes × the ratio, sums kept; a fraction paid
in cash is an exit at its price); a name change moves it to the new symbol. An account reset archives the positions it ends: their records close at the
reset's time, ``closed_by`` ``"reset"``, without exit figures (no price was taken).

A void (a correction) rewrites the symbol's open record from the corrected position: the entry
becomes what is still held, the exit sums, fees and PnL start again; if the corrected symbol is
flat, its open record is removed. Closed records are never rewritten.

Written by :meth:`AccountRepository.save` in the same transaction as the ledger and the
``positions`` projection. Open positions are still read from ``positions`` alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from propdesk.accounting.events import (
    AccountReset,
    Event,
    FillApplied,
    FillVoided,
    SplitApplied,
    SymbolChanged,
)
from propdesk.model.instruments import AssetClass
from propdesk.model.numbers import ZERO
from propdesk.store.errors import ProjectionConflict
from propdesk.store.pages import Page
from propdesk.store.tables import position_history, positions

LONG = "long"
SHORT = "short"
CLOSED_BY_FILL = "fill"
CLOSED_BY_RESET = "reset"
CLOSED_BY_SPLIT = "split"  # a split left only a fraction, paid in cash


@dataclass(frozen=True, slots=True)
class PositionRecord:
    """A position's life: what was entered and exited, at what average prices, for what PnL.

    The quantities are unsigned; ``side`` says long or short. The entry and exit values are sums
    of ``qty x price x multiplier`` over the position's fills, so the averages are exact
    quotients of stored sums.
    """

    id: int
    account_id: str
    symbol: str
    asset_class: AssetClass
    multiplier: Decimal
    side: str
    max_qty: Decimal
    entry_qty: Decimal
    entry_value: Decimal
    exit_qty: Decimal
    exit_value: Decimal
    realized_pnl: Decimal
    fees: Decimal
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None

    @property
    def avg_entry_price(self) -> Decimal:
        return self.entry_value / (self.entry_qty * self.multiplier)

    @property
    def avg_exit_price(self) -> Decimal | None:
        """None when nothing was exited by a fill (a position a reset archived)."""
        return None if self.exit_qty == 0 else self.exit_value / (self.exit_qty * self.multiplier)

    @classmethod
    def from_row(cls, row: RowMapping) -> PositionRecord:
        values: dict[str, Any] = dict(row)
        values["asset_class"] = AssetClass(values["asset_class"])
        return cls(**values)


class PositionHistoryRepository:
    """Reads of the closed positions of an account."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def page(self, account_id: str, page: Page) -> list[PositionRecord]:
        """Closed positions in the order they closed (oldest first)."""
        stmt = (
            sa.select(position_history)
            .where(position_history.c.account_id == account_id, position_history.c.closed_at.is_not(None))
            .order_by(position_history.c.closed_at, position_history.c.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return [PositionRecord.from_row(r) for r in self._conn.execute(stmt).mappings()]

    def open_records(self, account_id: str) -> list[PositionRecord]:
        """The records of the positions still open, by symbol."""
        stmt = (
            sa.select(position_history)
            .where(position_history.c.account_id == account_id, position_history.c.closed_at.is_(None))
            .order_by(position_history.c.symbol)
        )
        return [PositionRecord.from_row(r) for r in self._conn.execute(stmt).mappings()]


def _opened(
    account_id: str,
    symbol: str,
    asset_class: str,
    multiplier: Decimal,
    signed_qty: Decimal,
    value: Decimal,
    at: datetime,
    *,
    fees: Decimal = ZERO,
) -> dict[str, Any]:
    """A new open record holding ``signed_qty`` entered for ``value`` (unsigned) at ``at``."""
    qty = abs(signed_qty)
    return {
        "id": None,
        "account_id": account_id,
        "symbol": symbol,
        "asset_class": asset_class,
        "multiplier": multiplier,
        "side": LONG if signed_qty > 0 else SHORT,
        "max_qty": qty,
        "entry_qty": qty,
        "entry_value": abs(value),
        "exit_qty": ZERO,
        "exit_value": ZERO,
        "realized_pnl": ZERO,
        "fees": fees,
        "opened_at": at,
        "closed_at": None,
        "closed_by": None,
    }


class _Lives:
    """The records one save touches, loaded once each, written back by :meth:`flush`."""

    def __init__(self, conn: Connection, account_id: str) -> None:
        self._conn = conn
        self._account_id = account_id
        self._open: dict[str, dict[str, Any] | None] = {}  # symbol -> its open record, None if flat
        self._written: list[dict[str, Any]] = []  # records closed during this save
        self._dropped: list[int] = []  # ids of stored open records a void removed

    def _current(self, symbol: str) -> dict[str, Any] | None:
        if symbol not in self._open:
            self._open[symbol] = self._load(symbol)
        return self._open[symbol]

    def _load(self, symbol: str) -> dict[str, Any] | None:
        """The stored open record; for a position held since before revision 0013, a new one
        from its ``positions`` row (read before ``save`` rewrites it)."""
        ours = (position_history.c.account_id == self._account_id, position_history.c.symbol == symbol)
        row = (
            self._conn.execute(
                sa.select(position_history).where(*ours, position_history.c.closed_at.is_(None))
            )
            .mappings()
            .first()
        )
        if row is not None:
            return dict(row)
        held = (
            self._conn.execute(
                sa.select(positions).where(
                    positions.c.account_id == self._account_id, positions.c.symbol == symbol
                )
            )
            .mappings()
            .one_or_none()
        )
        if held is None:
            return None
        return _opened(
            self._account_id,
            symbol,
            held["asset_class"],
            held["multiplier"],
            held["qty"],
            held["cost"],
            held["opened_at"],
        )

    def _close(self, life: dict[str, Any], at: datetime, by: str) -> None:
        life["closed_at"] = at
        life["closed_by"] = by
        self._written.append(life)
        self._open[life["symbol"]] = None

    def fill(self, event: FillApplied) -> None:
        fill = event.fill
        spec = fill.instrument
        signed = fill.signed_qty
        after = event.position_qty_after
        before = after - signed
        value = fill.qty * fill.price * spec.multiplier
        life = self._current(fill.symbol)
        if before == 0:
            if life is not None:
                # A record left open on a flat symbol (a projection corrected by recompute).
                self._close(life, fill.time, CLOSED_BY_FILL)
            self._open[fill.symbol] = _opened(
                self._account_id,
                fill.symbol,
                spec.asset_class.value,
                spec.multiplier,
                signed,
                value,
                fill.time,
                fees=fill.fee,
            )
            return
        if life is None:
            raise ProjectionConflict(
                f"account {self._account_id} fills {fill.symbol} held at {before} without a position row"
            )
        life["fees"] += fill.fee
        if (before > 0) == (signed > 0):
            life["entry_qty"] += fill.qty
            life["entry_value"] += value
            life["max_qty"] = max(life["max_qty"], abs(after))
            return
        closed = min(fill.qty, abs(before))
        life["exit_qty"] += closed
        life["exit_value"] += closed * fill.price * spec.multiplier
        life["realized_pnl"] += event.realized_pnl
        if after == 0 or (after > 0) != (before > 0):
            self._close(life, fill.time, CLOSED_BY_FILL)
        if after != 0 and (after > 0) != (before > 0):
            self._open[fill.symbol] = _opened(
                self._account_id,
                fill.symbol,
                spec.asset_class.value,
                spec.multiplier,
                after,
                abs(after) * fill.price * spec.multiplier,
                fill.time,
            )

    def void(self, event: FillVoided) -> None:
        spec = event.instrument
        life = self._current(spec.symbol)
        if event.position_qty == 0 or event.position_opened_at is None:
            if life is not None and life["id"] is not None:
                self._dropped.append(life["id"])
            self._open[spec.symbol] = None
            return
        fresh = _opened(
            self._account_id,
            spec.symbol,
            spec.asset_class.value,
            spec.multiplier,
            event.position_qty,
            event.position_cost,
            event.position_opened_at,
        )
        fresh["id"] = None if life is None else life["id"]
        self._open[spec.symbol] = fresh

    def split(self, event: SplitApplied) -> None:
        """Re-base the open record: sizes × the ratio, sums kept (averages ÷ the ratio); a fraction
        paid in cash is an exit at its price; a position left with nothing closes."""
        life = self._current(event.symbol)
        if life is None:
            return
        ratio = event.new_rate / event.old_rate
        for key in ("max_qty", "entry_qty", "exit_qty"):
            life[key] = life[key] * ratio
        if event.lieu_qty:
            life["exit_qty"] += abs(event.lieu_qty)
            life["exit_value"] += abs(event.lieu_qty) * event.lieu_price * life["multiplier"]
            life["realized_pnl"] += event.realized_pnl
        if event.qty_after == 0:
            self._close(life, event.at, CLOSED_BY_SPLIT)

    def rename(self, event: SymbolChanged) -> None:
        """The open record follows the position to its new symbol."""
        life = self._current(event.old_symbol)
        if life is None:
            return
        self._open[event.old_symbol] = None
        life["symbol"] = event.new_symbol
        self._open[event.new_symbol] = life

    def reset(self, at: datetime) -> None:
        stored = self._conn.execute(
            sa.select(positions.c.symbol).where(positions.c.account_id == self._account_id)
        ).scalars()
        for symbol in sorted(set(stored) | set(self._open)):
            life = self._current(symbol)
            if life is not None:
                self._close(life, at, CLOSED_BY_RESET)

    def flush(self) -> None:
        if self._dropped:
            self._conn.execute(sa.delete(position_history).where(position_history.c.id.in_(self._dropped)))
        lives = self._written + [life for life in self._open.values() if life is not None]
        new = [{k: v for k, v in life.items() if k != "id"} for life in lives if life["id"] is None]
        if new:
            self._conn.execute(sa.insert(position_history), new)
        for life in lives:
            if life["id"] is not None:
                values = {k: v for k, v in life.items() if k != "id"}
                self._conn.execute(
                    sa.update(position_history).where(position_history.c.id == life["id"]).values(**values)
                )


def _touches_history(event: Event) -> bool:
    return isinstance(event, FillApplied | FillVoided | AccountReset | SplitApplied | SymbolChanged)


class PositionHistoryStore:
    """Keeping position records in step with the fills (a part of :class:`AccountRepository`)."""

    _conn: Connection

    def _record_position_history(self, account_id: str, events: Sequence[Event]) -> None:
        """Apply ``events`` to the position records; call before ``positions`` is rewritten."""
        if not any(_touches_history(e) for e in events):
            return
        lives = _Lives(self._conn, account_id)
        for event in events:
            if isinstance(event, FillApplied):
                lives.fill(event)
            elif isinstance(event, FillVoided):
                lives.void(event)
            elif isinstance(event, AccountReset):
                lives.reset(event.at)
            elif isinstance(event, SplitApplied):
                lives.split(event)
            elif isinstance(event, SymbolChanged):
                lives.rename(event)
        lives.flush()
