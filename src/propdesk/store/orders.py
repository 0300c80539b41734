"""The order engine's records: orders as :class:`~propdesk.model.orders.Order`, the reads of their
trade updates, the evaluator's cursor per account and the asset flags (the row shape of a trade
update is in :mod:`propdesk.store.order_updates`).

Written in the unit of work of the command that changed them, under the account's lock, so an
order's status, its reservation and its fills always commit together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from propdesk.model.instruments import AssetClass
from propdesk.model.orders import (
    LegRole,
    Order,
    OrderClass,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    TimeInForce,
)
from propdesk.store._sql import insert_on_conflict
from propdesk.store.decision_actions import PENDING_APPROVAL
from propdesk.store.order_updates import UpdateRow
from propdesk.store.tables import assets, decision_actions, order_evaluations, order_updates, orders

OPEN_ORDER_STATUSES = tuple(s.value for s in OrderStatus if s.is_open)


def order_of(row: RowMapping) -> Order:
    """An order row as the domain value (rows the engine did not write, e.g. voided, are refused)."""
    return Order(
        id=row["id"],
        account_id=row["account_id"],
        client_order_id=row["client_order_id"] or row["id"],
        symbol=row["symbol"],
        asset_class=AssetClass(row["asset_class"]),
        side=Side(row["side"]),
        type=OrderType(row["type"]),
        time_in_force=TimeInForce(row["time_in_force"]),
        qty=row["qty"],
        notional=row["notional"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        order_class=OrderClass(row["order_class"]),
        status=OrderStatus(row["status"]),
        limit_price=row["limit_price"],
        stop_price=row["stop_price"],
        trail_price=row["trail_price"],
        trail_percent=row["trail_percent"],
        watermark=row["watermark"],
        triggered=bool(row["triggered"]),
        filled_qty=row["filled_qty"],
        filled_value=row["filled_value"],
        reserved=row["reserved_amount"],
        active_from=row["active_from"],
        expires_at=row["expires_at"],
        parent_id=row["parent_id"],
        leg_role=None if row["leg_role"] is None else LegRole(row["leg_role"]),
        ratio_qty=row["ratio_qty"],
        replaces=row["replaces"],
        replaced_by=row["replaced_by"],
        filled_at=row["filled_at"],
        canceled_at=row["canceled_at"],
        expired_at=row["expired_at"],
        replaced_at=row["replaced_at"],
        failed_at=row["failed_at"],
        reason=row["reason"],
        evaluations=row["evaluations"],
        extended_hours=bool(row["extended_hours"]),
        voided_at=row["voided_at"],
    )


def _values(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "account_id": order.account_id,
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "asset_class": order.asset_class.value,
        "side": order.side.value,
        "type": order.type.value,
        "time_in_force": order.time_in_force.value,
        "qty": order.qty,
        "notional": order.notional,
        "limit_price": order.limit_price,
        "stop_price": order.stop_price,
        "status": order.status.value,
        "filled_qty": order.filled_qty,
        "filled_avg_price": order.filled_avg_price,
        "reserved_amount": order.reserved,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "payload": {},
        "order_class": order.order_class.value,
        "trail_price": order.trail_price,
        "trail_percent": order.trail_percent,
        "watermark": order.watermark,
        "triggered": order.triggered,
        "filled_value": order.filled_value,
        "active_from": order.active_from,
        "expires_at": order.expires_at,
        "parent_id": order.parent_id,
        "leg_role": None if order.leg_role is None else order.leg_role.value,
        "ratio_qty": order.ratio_qty,
        "replaces": order.replaces,
        "replaced_by": order.replaced_by,
        "filled_at": order.filled_at,
        "canceled_at": order.canceled_at,
        "expired_at": order.expired_at,
        "replaced_at": order.replaced_at,
        "failed_at": order.failed_at,
        "reason": order.reason,
        "evaluations": order.evaluations,
        "extended_hours": order.extended_hours,
        "voided_at": order.voided_at,
    }


@dataclass(frozen=True, slots=True)
class EvaluationCursor:
    account_id: str
    evaluated_through: datetime
    last_run_at: datetime
    last_run_ticks: int
    total_ticks: int
    # symbol -> time of its latest quote when the run ended (see order_evaluation).
    latest_quotes: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AssetFlags:
    symbol: str
    asset_class: AssetClass
    tradable: bool = True
    shortable: bool = True
    easy_to_borrow: bool = True
    fractionable: bool = True
    marginable: bool = True
    name: str = ""
    exchange: str = ""


class OrderRepository:
    """Orders as domain values, trade updates and evaluator cursors."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # --- orders ----------------------------------------------------------------------------------

    def open_orders(self, account_id: str) -> list[Order]:
        stmt = (
            sa.select(orders)
            .where(orders.c.account_id == account_id, orders.c.status.in_(OPEN_ORDER_STATUSES))
            .order_by(orders.c.created_at, orders.c.id)
        )
        return [order_of(r) for r in self._conn.execute(stmt).mappings()]

    def get(self, account_id: str, order_id: str) -> Order | None:
        stmt = sa.select(orders).where(orders.c.account_id == account_id, orders.c.id == order_id)
        row = self._conn.execute(stmt).mappings().one_or_none()
        return None if row is None else order_of(row)

    def payload(self, order_id: str) -> Mapping[str, Any]:
        stmt = sa.select(orders.c.payload).where(orders.c.id == order_id)
        return dict(self._conn.execute(stmt).scalar_one() or {})

    def by_client_id(self, account_id: str, client_order_id: str) -> Order | None:
        stmt = sa.select(orders).where(
            orders.c.account_id == account_id, orders.c.client_order_id == client_order_id
        )
        row = self._conn.execute(stmt).mappings().one_or_none()
        return None if row is None else order_of(row)

    def children(self, account_id: str, parent_ids: Sequence[str]) -> list[Order]:
        if not parent_ids:
            return []
        stmt = (
            sa.select(orders)
            .where(orders.c.account_id == account_id, orders.c.parent_id.in_(list(parent_ids)))
            .order_by(orders.c.created_at, orders.c.id)
        )
        return [order_of(r) for r in self._conn.execute(stmt).mappings()]

    def save(
        self, changed: Sequence[Order], *, known: Iterable[str], payloads: Mapping[str, Mapping[str, Any]]
    ) -> None:
        """Insert the orders not in ``known`` (ids already stored, with ``payloads`` by id) and update
        the others."""
        stored = set(known)
        new_rows = [
            _values(o) | {"payload": dict(payloads.get(o.id, {}))} for o in changed if o.id not in stored
        ]
        if new_rows:
            self._conn.execute(sa.insert(orders), new_rows)
        for order in changed:
            if order.id in stored:
                values = _values(order)
                del values["id"], values["account_id"], values["created_at"], values["payload"]
                self._conn.execute(sa.update(orders).where(orders.c.id == order.id).values(**values))

    def void(self, order_id: str, at: datetime) -> None:
        self._conn.execute(
            sa.update(orders).where(orders.c.id == order_id).values(voided_at=at, updated_at=at)
        )

    def page(self, account_id: str, *, limit: int, offset: int) -> list[Order]:
        """Every order of the account, oldest first."""
        stmt = (
            sa.select(orders)
            .where(orders.c.account_id == account_id)
            .order_by(orders.c.created_at, orders.c.id)
            .limit(limit)
            .offset(offset)
        )
        return [order_of(r) for r in self._conn.execute(stmt).mappings()]

    def count_open(self, account_id: str, *, excluding_action: str | None = None) -> int:
        """Open orders plus decision actions awaiting approval (they are orders not yet sent), in
        one round trip; ``excluding_action`` leaves out the action being executed now."""
        resting = (
            sa.select(sa.func.count())
            .where(orders.c.account_id == account_id, orders.c.status.in_(OPEN_ORDER_STATUSES))
            .scalar_subquery()
        )
        pending = sa.select(sa.func.count()).where(
            decision_actions.c.account_id == account_id, decision_actions.c.status == PENDING_APPROVAL
        )
        if excluding_action is not None:
            pending = pending.where(decision_actions.c.id != excluding_action)
        return int(self._conn.execute(sa.select(resting + pending.scalar_subquery())).scalar_one())

    def ids(self, account_id: str, candidates: Sequence[str]) -> set[str]:
        """Which of ``candidates`` are order ids of the account."""
        if not candidates:
            return set()
        stmt = sa.select(orders.c.id).where(
            orders.c.account_id == account_id, orders.c.id.in_(list(candidates))
        )
        return set(self._conn.execute(stmt).scalars())

    def accounts_with_open_orders(self) -> list[str]:
        stmt = (
            sa.select(orders.c.account_id)
            .where(orders.c.status.in_(OPEN_ORDER_STATUSES))
            .distinct()
            .order_by(orders.c.account_id)
        )
        return list(self._conn.execute(stmt).scalars())

    def open_reserved(self, account_id: str) -> dict[str, Decimal]:
        """What each open order of the account holds (recompute compares it with the ledger's)."""
        stmt = sa.select(orders.c.id, orders.c.reserved_amount).where(
            orders.c.account_id == account_id,
            orders.c.status.in_(OPEN_ORDER_STATUSES),
            orders.c.reserved_amount > 0,
        )
        return {row.id: row.reserved_amount for row in self._conn.execute(stmt)}

    # --- trade updates ----------------------------------------------------------------------------

    def record_updates(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self._conn.execute(sa.insert(order_updates), [dict(r) for r in rows])

    def updates_after(self, account_id: str, after_id: int = 0, limit: int = 500) -> list[UpdateRow]:
        stmt = (
            sa.select(order_updates)
            .where(order_updates.c.account_id == account_id, order_updates.c.id > after_id)
            .order_by(order_updates.c.id)
            .limit(limit)
        )
        return [
            UpdateRow(
                id=r["id"],
                account_id=r["account_id"],
                order_id=r["order_id"],
                event=OrderUpdate(r["event"]),
                at=r["at"],
                fill_id=r["fill_id"],
                qty=r["qty"],
                price=r["price"],
                position_qty=r["position_qty"],
                order=r["order"],
            )
            for r in self._conn.execute(stmt).mappings()
        ]

    def last_update_id(self, account_id: str) -> int:
        """The newest trade update's id for the account (0 if none): where a new listener starts."""
        stmt = sa.select(sa.func.max(order_updates.c.id)).where(order_updates.c.account_id == account_id)
        return int(self._conn.execute(stmt).scalar_one() or 0)

    # --- evaluator cursor -----------------------------------------------------------------------------

    def cursor(self, account_id: str) -> EvaluationCursor | None:
        row = (
            self._conn.execute(
                sa.select(order_evaluations).where(order_evaluations.c.account_id == account_id)
            )
            .mappings()
            .one_or_none()
        )
        if row is None:
            return None
        seen = {symbol: datetime.fromisoformat(at) for symbol, at in (row["latest_quotes"] or {}).items()}
        return EvaluationCursor(
            account_id=row["account_id"],
            evaluated_through=row["evaluated_through"],
            last_run_at=row["last_run_at"],
            last_run_ticks=row["last_run_ticks"],
            total_ticks=row["total_ticks"],
            latest_quotes=seen,
        )

    def save_cursor(self, cursor: EvaluationCursor) -> None:
        insert_on_conflict(
            self._conn,
            order_evaluations,
            [
                {
                    "account_id": cursor.account_id,
                    "evaluated_through": cursor.evaluated_through,
                    "last_run_at": cursor.last_run_at,
                    "last_run_ticks": cursor.last_run_ticks,
                    "total_ticks": cursor.total_ticks,
                    "latest_quotes": {s: at.isoformat() for s, at in cursor.latest_quotes.items()},
                }
            ],
            keys=["account_id"],
            update=["evaluated_through", "last_run_at", "last_run_ticks", "total_ticks", "latest_quotes"],
        )

    # --- assets ----------------------------------------------------------------------------------------

    def asset_flags(self, symbols: Sequence[str]) -> dict[str, AssetFlags]:
        if not symbols:
            return {}
        stmt = sa.select(assets).where(assets.c.symbol.in_(list(symbols)))
        return {r["symbol"]: _asset(r) for r in self._conn.execute(stmt).mappings()}

    def all_assets(self) -> list[AssetFlags]:
        return [_asset(r) for r in self._conn.execute(sa.select(assets).order_by(assets.c.symbol)).mappings()]

    def put_asset(self, flags: AssetFlags, at: datetime) -> None:
        row = {
            "symbol": flags.symbol,
            "asset_class": flags.asset_class.value,
            "name": flags.name,
            "exchange": flags.exchange,
            "tradable": flags.tradable,
            "shortable": flags.shortable,
            "easy_to_borrow": flags.easy_to_borrow,
            "fractionable": flags.fractionable,
            "marginable": flags.marginable,
            "updated_at": at,
        }
        insert_on_conflict(
            self._conn, assets, [row], keys=["symbol"], update=[k for k in row if k != "symbol"]
        )

    def search(
        self,
        account_id: str,
        *,
        statuses: Sequence[str] | None = None,
        symbols: Sequence[str] | None = None,
        side: Side | None = None,
        asset_classes: Sequence[AssetClass] | None = None,
        after: datetime | None = None,
        until: datetime | None = None,
        before_order: Order | None = None,
        after_order: Order | None = None,
        newest_first: bool = True,
        limit: int = 50,
        top_level_only: bool = False,
    ) -> list[Order]:
        """An account's orders filtered as Alpaca's ``GET /v2/orders`` filters them, newest first by
        default; ``before_order``/``after_order`` page in (created_at, id) order. Multi-leg legs
        are never listed on their own: they belong to their parent's ``legs``."""
        stmt = sa.select(orders).where(
            orders.c.account_id == account_id,
            sa.or_(orders.c.leg_role.is_(None), orders.c.leg_role != LegRole.OPTION_LEG.value),
        )
        if statuses is not None:
            stmt = stmt.where(orders.c.status.in_(list(statuses)))
        if symbols:
            stmt = stmt.where(orders.c.symbol.in_(list(symbols)))
        if side is not None:
            stmt = stmt.where(orders.c.side == side.value)
        if asset_classes is not None:
            stmt = stmt.where(orders.c.asset_class.in_([c.value for c in asset_classes]))
        if after is not None:
            stmt = stmt.where(orders.c.created_at > after)
        if until is not None:
            stmt = stmt.where(orders.c.created_at < until)
        if before_order is not None:
            at, key = before_order.created_at, before_order.id
            stmt = stmt.where(
                sa.or_(orders.c.created_at < at, sa.and_(orders.c.created_at == at, orders.c.id < key))
            )
        if after_order is not None:
            at, key = after_order.created_at, after_order.id
            stmt = stmt.where(
                sa.or_(orders.c.created_at > at, sa.and_(orders.c.created_at == at, orders.c.id > key))
            )
        if top_level_only:
            stmt = stmt.where(orders.c.parent_id.is_(None))
        order = (
            (orders.c.created_at.desc(), orders.c.id.desc())
            if newest_first
            else (orders.c.created_at, orders.c.id)
        )
        stmt = stmt.order_by(*order).limit(limit)
        return [order_of(r) for r in self._conn.execute(stmt).mappings()]

    def find_many(self, account_id: str, order_ids: Sequence[str]) -> dict[str, Order]:
        """The account's orders among ``order_ids``, by id (ids of other accounts are not found)."""
        if not order_ids:
            return {}
        stmt = sa.select(orders).where(orders.c.account_id == account_id, orders.c.id.in_(list(order_ids)))
        return {r["id"]: order_of(r) for r in self._conn.execute(stmt).mappings()}


def _asset(row: RowMapping) -> AssetFlags:
    return AssetFlags(
        symbol=row["symbol"],
        asset_class=AssetClass(row["asset_class"]),
        tradable=bool(row["tradable"]),
        shortable=bool(row["shortable"]),
        easy_to_borrow=bool(row["easy_to_borrow"]),
        fractionable=bool(row["fractionable"]),
        marginable=bool(row["marginable"]),
        name=row["name"],
        exchange=row["exchange"],
    )
