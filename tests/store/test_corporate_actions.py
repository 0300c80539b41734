"""The corporate-actions store: keyed by (type, symbol, ex_date), re-imports add nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from propdesk.accounting.kernel import ApplyFill
from propdesk.model.orders import Side
from propdesk.services.accounts.commands import execute
from propdesk.store.corporate_actions import (
    ActionType,
    CorporateAction,
    CorporateActionConflict,
    CorporateActionRepository,
)
from propdesk.store.tables import corporate_actions
from propdesk.store.uow import UnitOfWork
from tests.db import AAPL, T0, fill, started_account

D = Decimal
SPLIT = CorporateAction(
    id="a-split",
    type=ActionType.SPLIT,
    symbol="NVDA",
    ex_date=date(2007, 9, 11),
    old_rate=D(2),
    new_rate=D(3),
)
DIVIDEND = CorporateAction(
    id="a-div", type=ActionType.DIVIDEND, symbol="ORCL", ex_date=date(2009, 4, 6), cash=D("0.05")
)
RENAME = CorporateAction(
    id="a-nc", type=ActionType.NAME_CHANGE, symbol="NVDA", ex_date=date(2007, 9, 11), new_symbol="NVDX"
)


def test_actions_round_trip_and_a_reimport_adds_nothing(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        assert CorporateActionRepository(uow.connection).add([RENAME, SPLIT, DIVIDEND], T0) == 3
        uow.commit()
    with UnitOfWork(engine) as uow:
        repo = CorporateActionRepository(uow.connection)
        assert repo.add([SPLIT, DIVIDEND], T0) == 0
        # applied in order: dividends, splits, then name changes
        assert repo.on(date(2007, 9, 11)) == [SPLIT, RENAME]
        assert repo.all()[-1] == DIVIDEND
        uow.commit()


def test_the_same_key_with_other_terms_is_a_conflict(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        CorporateActionRepository(uow.connection).add([DIVIDEND], T0)
        uow.commit()
    other = CorporateAction(
        id="a-other", type=ActionType.DIVIDEND, symbol="ORCL", ex_date=date(2009, 4, 6), cash=D("0.06")
    )
    with UnitOfWork(engine) as uow, pytest.raises(CorporateActionConflict):
        CorporateActionRepository(uow.connection).add([SPLIT, other], T0)
    with UnitOfWork(engine, read_only=True) as uow:
        assert uow.connection.execute(sa.select(sa.func.count()).select_from(corporate_actions)).scalar() == 1


def test_the_database_refuses_a_duplicate_key(engine: Engine) -> None:
    row = {"type": "split", "symbol": "NVDA", "ex_date": date(2007, 9, 11), "source": "t", "created_at": T0}
    with UnitOfWork(engine) as uow, pytest.raises(IntegrityError):
        uow.connection.execute(sa.insert(corporate_actions), [row | {"id": "x1"}, row | {"id": "x2"}])


def test_applications_and_the_accounts_an_action_touches(engine: Engine) -> None:
    holder, _ = started_account(engine, prefix="holder")
    started_account(engine, prefix="bystander")
    execute(engine, holder, ApplyFill(at=T0, fill=fill(AAPL, Side.BUY, "3", "100", fill_id="f1", when=T0)))
    apple = CorporateAction(
        id="a-aapl",
        type=ActionType.SPLIT,
        symbol="AAPL",
        ex_date=date(2020, 8, 31),
        old_rate=D(1),
        new_rate=D(4),
    )
    with UnitOfWork(engine) as uow:
        repo = CorporateActionRepository(uow.connection)
        repo.add([apple], T0)
        assert repo.accounts_touched("AAPL") == [holder]
        assert not repo.is_applied(holder, apple.id)
        repo.mark_applied(holder, apple.id, T0)
        assert repo.is_applied(holder, apple.id)
        with pytest.raises(IntegrityError):
            repo.mark_applied(holder, apple.id, T0)
