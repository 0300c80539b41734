"""Errors the store raises, so that services and APIs can map them without parsing driver messages."""

from __future__ import annotations


class StoreError(Exception):
    """Base of the store's own errors."""


class AccountNotFound(StoreError, LookupError):
    """No account has this id."""

    def __init__(self, account_id: str) -> None:
        super().__init__(f"account {account_id!r} does not exist")
        self.account_id = account_id


class UserNotFound(StoreError, LookupError):
    """No user has this id."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"user {user_id!r} does not exist")
        self.user_id = user_id


class StaleStateError(StoreError):
    """A save was based on a state that is not the account's current version.

    The service loads state under the account lock, so this means a caller saved without
    locking, or saved a state it did not load: the transaction must be abandoned.
    """


class ProjectionConflict(StoreError):
    """The events cannot be applied to the stored projections (e.g. a reservation resolved twice).

    The kernel should have refused such a command; reaching this error means its state and the
    stored rows disagree, which is drift for ``recompute`` to report.
    """


class UnitOfWorkError(StoreError):
    """A unit of work used outside its ``with`` block, after commit, or on a misconfigured engine."""
