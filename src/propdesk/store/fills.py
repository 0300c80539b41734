"""Fills read back: an account's executions, newest first or by order, voided ones included."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from propdesk.model.fills import Fill
from propdesk.model.instruments import AssetClass, InstrumentSpec
from propdesk.model.orders import Side
from propdesk.store.pages import Page
from propdesk.store.tables import fills


@dataclass(frozen=True, slots=True)
class FillRecord:
    fill: Fill
    account_id: str
    voided_at: datetime | None


def _fill(row: RowMapping) -> Fill:
    return Fill(
        fill_id=row["id"],
        order_id=row["order_id"],
        instrument=InstrumentSpec(row["symbol"], AssetClass(row["asset_class"]), row["multiplier"]),
        side=Side(row["side"]),
        qty=row["qty"],
        price=row["price"],
        fee=row["fee"],
        time=row["time"],
        bid=row["bid"],
        ask=row["ask"],
        mark=row["mark"],
        slippage=row["slippage"],
        liquidity=row["liquidity"],
    )


class FillRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def page(self, account_id: str, page: Page) -> list[FillRecord]:
        stmt = (
            sa.select(fills)
            .where(fills.c.account_id == account_id)
            .order_by(fills.c.time, fills.c.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        return [
            FillRecord(_fill(r), r["account_id"], r["voided_at"]) for r in self._conn.execute(stmt).mappings()
        ]

    def recent(self, account_id: str, count: int) -> list[FillRecord]:
        """The ``count`` latest fills, oldest first."""
        stmt = (
            sa.select(fills)
            .where(fills.c.account_id == account_id)
            .order_by(fills.c.time.desc(), fills.c.id.desc())
            .limit(count)
        )
        rows = [
            FillRecord(_fill(r), r["account_id"], r["voided_at"]) for r in self._conn.execute(stmt).mappings()
        ]
        return rows[::-1]

    def find(self, account_id: str, fill_id: str) -> FillRecord | None:
        row = (
            self._conn.execute(
                sa.select(fills).where(fills.c.account_id == account_id, fills.c.id == fill_id)
            )
            .mappings()
            .one_or_none()
        )
        return None if row is None else FillRecord(_fill(row), row["account_id"], row["voided_at"])

    def for_order(self, account_id: str, order_id: str) -> list[FillRecord]:
        stmt = (
            sa.select(fills)
            .where(fills.c.account_id == account_id, fills.c.order_id == order_id)
            .order_by(fills.c.time, fills.c.id)
        )
        return [
            FillRecord(_fill(r), r["account_id"], r["voided_at"]) for r in self._conn.execute(stmt).mappings()
        ]

    def live_page(
        self,
        account_id: str,
        *,
        since: datetime | None = None,
        before: datetime | None = None,
        newest_first: bool = False,
        limit: int = 100,
    ) -> list[Fill]:
        """Fills not voided with ``since <= time < before``, in time order (then id), at most
        ``limit`` (account activities page through these)."""
        stmt = sa.select(fills).where(fills.c.account_id == account_id, fills.c.voided_at.is_(None))
        if since is not None:
            stmt = stmt.where(fills.c.time >= since)
        if before is not None:
            stmt = stmt.where(fills.c.time < before)
        order = (fills.c.time.desc(), fills.c.id.desc()) if newest_first else (fills.c.time, fills.c.id)
        stmt = stmt.order_by(*order).limit(limit)
        return [_fill(r) for r in self._conn.execute(stmt).mappings()]

    def live_for_orders(self, account_id: str, order_ids: Sequence[str]) -> list[Fill]:
        """Every fill not voided of the given orders, in time order (then id)."""
        if not order_ids:
            return []
        stmt = (
            sa.select(fills)
            .where(
                fills.c.account_id == account_id,
                fills.c.order_id.in_(list(order_ids)),
                fills.c.voided_at.is_(None),
            )
            .order_by(fills.c.time, fills.c.id)
        )
        return [_fill(r) for r in self._conn.execute(stmt).mappings()]


def fill_values(account_id: str, fill: Fill) -> dict[str, Any]:
    return {
        "id": fill.fill_id,
        "account_id": account_id,
        "order_id": fill.order_id,
        "symbol": fill.symbol,
        "asset_class": fill.instrument.asset_class.value,
        "multiplier": fill.instrument.multiplier,
        "side": fill.side.value,
        "qty": fill.qty,
        "price": fill.price,
        "fee": fill.fee,
        "bid": fill.bid,
        "ask": fill.ask,
        "mark": fill.mark,
        "slippage": fill.slippage,
        "liquidity": fill.liquidity,
        "time": fill.time,
    }
