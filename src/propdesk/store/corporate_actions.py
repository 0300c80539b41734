"""Corporate actions (``corporate_actions``) and the record of which account each was applied to
(``corporate_action_applications``).

An action is keyed by (type, symbol, ex_date): storing one already there with the same terms is a
no-op (a re-import), with other terms a :class:`CorporateActionConflict`. The applications table is
the job's idempotency record, written in the transaction that applies the action to an account.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from propdesk.accounting.kernel import ApplySplit, ChangeSymbol, PayDividend
from propdesk.store.order_updates import DERIVED_ID_NAMESPACE
from propdesk.store.orders import OPEN_ORDER_STATUSES
from propdesk.store.tables import corporate_action_applications, corporate_actions, orders, positions


class ActionType(StrEnum):
    DIVIDEND = "dividend"
    SPLIT = "split"
    NAME_CHANGE = "name_change"


# The order actions of one ex-date are applied in: a name change last, so a split or dividend
# announced under the old symbol still finds the position.
_APPLY_ORDER = {ActionType.DIVIDEND: 0, ActionType.SPLIT: 1, ActionType.NAME_CHANGE: 2}


def action_id(kind: ActionType, symbol: str, ex_date: date) -> str:
    """The stable id of an action (the same on every import of it, whatever its source)."""
    return str(uuid.uuid5(DERIVED_ID_NAMESPACE, f"corporate-action:{kind.value}:{symbol}:{ex_date}"))


class CorporateActionConflict(ValueError):
    """An action already stored under the same (type, symbol, ex_date) with different terms."""


@dataclass(frozen=True, slots=True)
class CorporateAction:
    """One corporate action; which of ``cash``, the rates and ``new_symbol`` are set depends on
    ``type`` (dividend: cash; split: old_rate and new_rate; name change: new_symbol)."""

    id: str
    type: ActionType
    symbol: str
    ex_date: date
    payable_date: date | None = None
    cash: Decimal | None = None
    old_rate: Decimal | None = None
    new_rate: Decimal | None = None
    new_symbol: str | None = None
    source: str = "csv"

    @property
    def key(self) -> tuple[str, str, date]:
        return (self.type.value, self.symbol, self.ex_date)

    def same_terms(self, other: CorporateAction) -> bool:
        return (self.payable_date, self.cash, self.old_rate, self.new_rate, self.new_symbol) == (
            other.payable_date,
            other.cash,
            other.old_rate,
            other.new_rate,
            other.new_symbol,
        )

    def command(self, at: datetime, *, whole_shares: bool) -> PayDividend | ApplySplit | ChangeSymbol:
        """The kernel command applying this action to one account at ``at`` (fractions of a split
        paid in cash when ``whole_shares``)."""
        match self.type:
            case ActionType.DIVIDEND:
                assert self.cash is not None
                return PayDividend(
                    at=at, action_id=self.id, symbol=self.symbol, rate=self.cash, ex_date=self.ex_date
                )
            case ActionType.SPLIT:
                assert self.old_rate is not None
                assert self.new_rate is not None
                return ApplySplit(
                    at=at,
                    action_id=self.id,
                    symbol=self.symbol,
                    old_rate=self.old_rate,
                    new_rate=self.new_rate,
                    ex_date=self.ex_date,
                    whole_shares=whole_shares,
                )
            case ActionType.NAME_CHANGE:
                assert self.new_symbol is not None
                return ChangeSymbol(
                    at=at,
                    action_id=self.id,
                    old_symbol=self.symbol,
                    new_symbol=self.new_symbol,
                    ex_date=self.ex_date,
                )

    @classmethod
    def from_row(cls, row: RowMapping) -> CorporateAction:
        values: dict[str, Any] = {k: v for k, v in row.items() if k != "created_at"}
        values["type"] = ActionType(values["type"])
        return cls(**values)


class CorporateActionRepository:
    """Reads and writes of corporate actions and their applications, on the caller's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def find(self, key: tuple[str, str, date]) -> CorporateAction | None:
        kind, symbol, ex_date = key
        row = (
            self._conn.execute(
                sa.select(corporate_actions).where(
                    corporate_actions.c.type == kind,
                    corporate_actions.c.symbol == symbol,
                    corporate_actions.c.ex_date == ex_date,
                )
            )
            .mappings()
            .one_or_none()
        )
        return None if row is None else CorporateAction.from_row(row)

    def add(self, actions: Sequence[CorporateAction], at: datetime) -> int:
        """Store the actions not stored yet; returns how many were new. An action stored under
        the same key with other terms raises :class:`CorporateActionConflict` (the caller's
        transaction then stores nothing)."""
        new: list[dict[str, Any]] = []
        for action in actions:
            stored = self.find(action.key)
            if stored is not None:
                if not stored.same_terms(action):
                    raise CorporateActionConflict(
                        f"{action.type.value} of {action.symbol} on {action.ex_date} is already stored "
                        "with other terms"
                    )
                continue
            new.append(
                {
                    "id": action.id,
                    "type": action.type.value,
                    "symbol": action.symbol,
                    "ex_date": action.ex_date,
                    "payable_date": action.payable_date,
                    "cash": action.cash,
                    "old_rate": action.old_rate,
                    "new_rate": action.new_rate,
                    "new_symbol": action.new_symbol,
                    "source": action.source,
                    "created_at": at,
                }
            )
        if new:
            self._conn.execute(sa.insert(corporate_actions), new)
        return len(new)

    def on(self, ex_date: date) -> list[CorporateAction]:
        """The actions whose ex-date is ``ex_date``, in the order they are applied."""
        rows = self._conn.execute(
            sa.select(corporate_actions).where(corporate_actions.c.ex_date == ex_date)
        ).mappings()
        found = [CorporateAction.from_row(r) for r in rows]
        return sorted(found, key=lambda a: (_APPLY_ORDER[a.type], a.symbol, a.id))

    def all(self) -> list[CorporateAction]:
        rows = self._conn.execute(
            sa.select(corporate_actions).order_by(corporate_actions.c.ex_date, corporate_actions.c.symbol)
        ).mappings()
        return [CorporateAction.from_row(r) for r in rows]

    def accounts_touched(self, symbol: str) -> list[str]:
        """Accounts holding ``symbol`` or with an open order in it, sorted (a stable lock order)."""
        held = sa.select(positions.c.account_id).where(positions.c.symbol == symbol)
        ordered = sa.select(orders.c.account_id).where(
            orders.c.symbol == symbol, orders.c.status.in_(OPEN_ORDER_STATUSES)
        )
        return sorted(set(self._conn.execute(sa.union(held, ordered)).scalars()))

    def is_applied(self, account_id: str, action_id: str) -> bool:
        stmt = sa.select(corporate_action_applications.c.action_id).where(
            corporate_action_applications.c.account_id == account_id,
            corporate_action_applications.c.action_id == action_id,
        )
        return self._conn.execute(stmt).first() is not None

    def mark_applied(self, account_id: str, action_id: str, at: datetime) -> None:
        self._conn.execute(
            sa.insert(corporate_action_applications).values(
                account_id=account_id, action_id=action_id, applied_at=at
            )
        )
