"""The unit of work: one connection, one transaction, rolled back unless explicitly committed.

Every state change of an account runs inside one unit of work that first locks the account
(:meth:`UnitOfWork.lock_account`). On PostgreSQL the lock is ``SELECT … FOR UPDATE`` on the
account row, held until commit or rollback; concurrent writers to the same account queue on it,
writers to other accounts do not. On SQLite the transaction itself began with ``BEGIN
IMMEDIATE`` (see :mod:`propdesk.store.engine`), which already serializes all writers to the
file, so locking just reads the row. Either way, whatever is read after the lock is current and
stays current until the transaction ends: two orders can never both spend the same cash.

A read-only unit of work (``read_only=True``) takes no lock at all: it reads one consistent
snapshot (REPEATABLE READ on PostgreSQL, a DEFERRED transaction in WAL mode on SQLite), so
reports and recompute neither block writers nor see half of a concurrent commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Self

from sqlalchemy.engine import Connection, Engine, RootTransaction

from propdesk.store.access import AuthVersionRepository, RateWindowRepository
from propdesk.store.accounts import AccountRepository, AccountRow
from propdesk.store.api_keys import ApiKeyRepository
from propdesk.store.audit import AuditRepository
from propdesk.store.decision_actions import DecisionActionRepository
from propdesk.store.engine import READ_ONLY_OPTION, is_serializing_sqlite_engine
from propdesk.store.errors import AccountNotFound, UnitOfWorkError
from propdesk.store.fills import FillRepository
from propdesk.store.heartbeats import HeartbeatRepository
from propdesk.store.orders import OrderRepository
from propdesk.store.ownership import OwnershipRepository
from propdesk.store.position_history import PositionHistoryRepository
from propdesk.store.prices import PriceRepository
from propdesk.store.tokens import TokenRepository
from propdesk.store.users import UserRepository
from propdesk.store.watchlists import AlpacaWatchlistRepository


class UnitOfWork:
    """``with UnitOfWork(engine) as uow: …; uow.commit()`` — leaving the block without commit rolls back.

    An exception inside the block always rolls back. After ``commit`` the unit of work is spent:
    further use raises :class:`UnitOfWorkError` rather than silently autobeginning a second
    transaction outside the lock.
    """

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        if engine.dialect.name == "sqlite" and not is_serializing_sqlite_engine(engine):
            raise UnitOfWorkError(
                "SQLite engines must come from propdesk.store.engine.create_engine_for "
                "(BEGIN IMMEDIATE), or account locking would not serialize writers"
            )
        self._engine = engine
        self.read_only = read_only
        self._connection: Connection | None = None
        self._transaction: RootTransaction | None = None
        self._done = False

    def __enter__(self) -> Self:
        if self._connection is not None or self._done:
            raise UnitOfWorkError("a unit of work can be entered once")
        connection = self._engine.connect()
        try:
            if self.read_only:
                if connection.dialect.name == "postgresql":
                    connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
                else:
                    connection.execution_options(**{READ_ONLY_OPTION: True})
            self._transaction = connection.begin()
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, transaction = self._connection, self._transaction
        self._connection = self._transaction = None
        self._done = True
        if connection is None:
            return
        try:
            if transaction is not None and transaction.is_active:
                transaction.rollback()
        finally:
            connection.close()

    @property
    def connection(self) -> Connection:
        """The connection of the open transaction."""
        if self._connection is None or self._transaction is None or not self._transaction.is_active:
            raise UnitOfWorkError("the unit of work is not open (outside its with block, or committed)")
        return self._connection

    @property
    def is_open(self) -> bool:
        """Whether the transaction is still open (entered, neither committed nor rolled back)."""
        return self._transaction is not None and self._transaction.is_active

    @property
    def dialect_name(self) -> str:
        return self._engine.dialect.name

    def commit(self) -> None:
        """Make the work durable; the unit of work cannot be used afterwards."""
        if self.read_only:
            raise UnitOfWorkError("a read-only unit of work has nothing to commit")
        connection = self.connection
        assert self._transaction is not None
        self._transaction.commit()
        self._transaction = None
        self._connection = None
        self._done = True
        connection.close()

    def rollback(self) -> None:
        """Abandon the work explicitly (leaving the block without commit does the same)."""
        connection = self.connection
        assert self._transaction is not None
        self._transaction.rollback()
        self._transaction = None
        self._connection = None
        self._done = True
        connection.close()

    # --- locking -------------------------------------------------------------------------------

    def lock_account(self, account_id: str) -> AccountRow:
        """Lock the account for the rest of the transaction and return its row.

        Raises :class:`AccountNotFound` for an unknown id.
        """
        if self.read_only:
            raise UnitOfWorkError("a read-only unit of work takes no locks; open a writing one")
        row = self.accounts.find(account_id, lock=True)
        if row is None:
            raise AccountNotFound(account_id)
        return row

    def lock_accounts(self, account_ids: Iterable[str]) -> list[AccountRow]:
        """Lock several accounts in sorted id order, so two multi-account operations cannot deadlock."""
        return [self.lock_account(account_id) for account_id in sorted(set(account_ids))]

    # --- repositories --------------------------------------------------------------------------

    @property
    def accounts(self) -> AccountRepository:
        return AccountRepository(self.connection)

    @property
    def users(self) -> UserRepository:
        return UserRepository(self.connection)

    @property
    def prices(self) -> PriceRepository:
        return PriceRepository(self.connection)

    @property
    def orders(self) -> OrderRepository:
        """Orders as the order engine's values, trade updates, evaluator cursors, asset flags."""
        return OrderRepository(self.connection)

    @property
    def position_history(self) -> PositionHistoryRepository:
        """Closed positions (the records :meth:`AccountRepository.save` keeps)."""
        return PositionHistoryRepository(self.connection)

    @property
    def fills(self) -> FillRepository:
        return FillRepository(self.connection)

    @property
    def decision_actions(self) -> DecisionActionRepository:
        return DecisionActionRepository(self.connection)

    @property
    def audit(self) -> AuditRepository:
        return AuditRepository(self.connection)

    @property
    def tokens(self) -> TokenRepository:
        return TokenRepository(self.connection)

    @property
    def api_keys(self) -> ApiKeyRepository:
        return ApiKeyRepository(self.connection)

    @property
    def heartbeats(self) -> HeartbeatRepository:
        return HeartbeatRepository(self.connection)

    @property
    def watchlists(self) -> AlpacaWatchlistRepository:
        """Alpaca's /v2 watchlists (not the ingestion ``watchlist`` in :attr:`prices`)."""
        return AlpacaWatchlistRepository(self.connection)

    @property
    def ownership(self) -> OwnershipRepository:
        """Which accounts a service token owns or was granted."""
        return OwnershipRepository(self.connection)

    @property
    def auth_version(self) -> AuthVersionRepository:
        """The revocation counter (bumped with every revoked key or token)."""
        return AuthVersionRepository(self.connection)

    @property
    def rate_windows(self) -> RateWindowRepository:
        """Rate-limit counters shared by every server process (when no Redis is configured)."""
        return RateWindowRepository(self.connection)
