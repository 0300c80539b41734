"""One command, one transaction: :func:`account_tx` is the unit of work every account command runs in.

It begins the transaction (``BEGIN IMMEDIATE`` on SQLite), locks the account (``SELECT … FOR
UPDATE`` on PostgreSQL), loads its state under the lock, hands the command an :class:`AccountTx`
to write events, ledger rows and projections through, and commits once when the block ends
normally. An exception inside the block (a kernel refusal, a 4xx) rolls everything back: a command
either happens whole or not at all. A block that has nothing to write may call ``tx.uow.rollback()``
(or commit itself); the helper then does not commit again.

A command made of steps that may each be refused on their own (closing every position) runs each
step in a :func:`savepoint` of the one transaction.

``tests/services/test_one_transaction.py`` counts the BEGINs of every write command of the services
layer and holds each to exactly one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from propdesk.accounting.events import Event
from propdesk.accounting.state import AccountState
from propdesk.model.ids import AccountId
from propdesk.store.accounts import AccountRow
from propdesk.store.uow import UnitOfWork


@dataclass(slots=True)
class AccountTx:
    """The open transaction of one command on one locked account.

    ``account`` and ``state`` are as loaded under the lock; :meth:`save` keeps ``state`` current.
    """

    uow: UnitOfWork
    account: AccountRow
    state: AccountState

    def save(
        self,
        state: AccountState,
        events: Sequence[Event],
        correlation_id: str | None = None,
        causation_id: str | None = None,
        *,
        recorded_at: datetime,
    ) -> AccountState:
        """Append ``events`` to the ledger and write ``state``'s projections (in this transaction)."""
        self.uow.accounts.save(
            self.account.id, state, events, correlation_id, causation_id, recorded_at=recorded_at
        )
        self.state = state
        return state

    def reload(self) -> None:
        """Read the account row and its state again, still under the lock (after a step of the
        command wrote through another path, or a savepoint was rolled back)."""
        self.account = self.uow.lock_account(self.account.id)
        self.state = self.uow.accounts.load_state(self.account.id)


@contextmanager
def open_tx(engine: Engine) -> Iterator[UnitOfWork]:
    """A writing unit of work committed once when the block ends normally (rolled back on an error)."""
    with UnitOfWork(engine) as uow:
        yield uow
        if uow.is_open:
            uow.commit()


@contextmanager
def account_tx(engine: Engine, account_id: AccountId) -> Iterator[AccountTx]:
    """Begin, lock ``account_id``, load it; the block writes; one commit at its end.

    Raises :class:`~propdesk.store.errors.AccountNotFound` for an unknown account (nothing begun
    stays open).
    """
    with open_tx(engine) as uow:
        account = uow.lock_account(account_id)
        yield AccountTx(uow, account, uow.accounts.load_state(account_id))


@contextmanager
def savepoint(uow: UnitOfWork) -> Iterator[None]:
    """A step inside the open transaction that is undone alone if it raises (the error propagates;
    what earlier steps wrote stays). No BEGIN: a savepoint is not a second transaction."""
    nested = uow.connection.begin_nested()
    try:
        yield
    except BaseException:
        if nested.is_active:
            nested.rollback()
        raise
    nested.commit()
