"""Per-account Alpaca account configurations (the /v2/account/configurations body)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from propdesk.store._sql import insert_on_conflict
from propdesk.store.tables import account_configurations


@dataclass(frozen=True, slots=True)
class AccountConfigurationRecord:
    """An account's Alpaca configuration as stored (``services.trading_account`` owns the defaults)."""

    account_id: str
    fractional_trading: bool
    no_shorting: bool
    suspend_trade: bool
    ptp_no_exception_entry: bool
    dtbp_check: str
    pdt_check: str
    trade_confirm_email: str
    max_options_trading_level: int | None
    updated_at: datetime


class AccountConfigurationRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def find(self, account_id: str) -> AccountConfigurationRecord | None:
        stmt = sa.select(account_configurations).where(account_configurations.c.account_id == account_id)
        row = self._conn.execute(stmt).mappings().one_or_none()
        return None if row is None else AccountConfigurationRecord(**dict(row))

    def put(self, record: AccountConfigurationRecord) -> None:
        values = asdict(record)
        insert_on_conflict(
            self._conn,
            account_configurations,
            [values],
            keys=("account_id",),
            update=[name for name in values if name != "account_id"],
        )
