"""Alpaca watchlists: named, ordered lists of symbols, each owned by one account.

Only the owner's key pair reaches a watchlist; another account's id is simply not found. A
watchlist name is 1–64 characters, not blank, without control characters, and unique within the
account. Symbols must be assets propdesk knows (:mod:`propdesk.services.market.assets`, the catalogue
``GET /v2/assets`` lists); they are stored as propdesk's symbol (``btcusd`` → ``BTC/USD``), keep
the owner's order and appear at most once in a list. Every refusal is a 422 (Alpaca's 40010001,
as for its ``watchlist name must be unique``) except an unknown watchlist, or a symbol that is not
in the list being removed from it, which are 404s. Writes lock the account, so two concurrent
edits of one list cannot lose each other's change.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from propdesk.model.instruments import AssetClass, InvalidSymbolError, parse_instrument
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Invalid, NotFound
from propdesk.services.market import assets
from propdesk.services.market.assets import AssetInfo
from propdesk.services.transactions import account_tx
from propdesk.store.uow import UnitOfWork
from propdesk.store.watchlists import AlpacaWatchlistRecord

MAX_NAME_LENGTH = 64
# Alpaca's field-validation code goes with this reason (api/alpaca/errors.translate).
INVALID = "invalid_request"


@dataclass(frozen=True, slots=True)
class WatchlistView:
    """A watchlist with its assets described, and the leverage their margin requirements use."""

    watchlist: AlpacaWatchlistRecord
    assets: tuple[AssetInfo, ...]
    leverage: Decimal


# --- validation ----------------------------------------------------------------------------------


def _check_name(name: str) -> str:
    if not name.strip():
        raise Invalid(INVALID, "watchlist name must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise Invalid(INVALID, f"watchlist name must be at most {MAX_NAME_LENGTH} characters")
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise Invalid(INVALID, "watchlist name must not contain control characters")
    return name


class _Catalogue:
    """The known assets by symbol, with crypto pairs also found without their slash (``BTCUSD``)."""

    def __init__(self, known: Iterable[AssetInfo]) -> None:
        self._by_symbol = {info.symbol: info for info in known}
        self._flat = {
            symbol.replace("/", ""): info
            for symbol, info in self._by_symbol.items()
            if info.asset_class is AssetClass.CRYPTO
        }

    def find(self, text: str) -> AssetInfo | None:
        symbol = text.strip().upper()
        return self._by_symbol.get(symbol) or self._flat.get(symbol.replace("/", ""))

    def resolve(self, text: str) -> str:
        """The stored symbol for a client's text; 422 for a symbol propdesk does not know."""
        found = self.find(text)
        if found is None:
            raise Invalid(INVALID, f"asset not found: {text}")
        return found.symbol

    def describe(self, symbol: str) -> AssetInfo | None:
        """A stored symbol's asset; one that has left the catalogue is still described (by its
        instrument, without stored flags) rather than dropped from the list."""
        found = self._by_symbol.get(symbol)
        if found is not None:
            return found
        try:
            return assets.describe(parse_instrument(symbol), None)
        except InvalidSymbolError:
            return None


Edit = Callable[[AlpacaWatchlistRecord], AlpacaWatchlistRecord]


def _catalogue(uow: UnitOfWork) -> _Catalogue:
    return _Catalogue(assets.catalogue_in(uow))


def _symbols(catalogue: _Catalogue, texts: Sequence[str]) -> tuple[str, ...]:
    symbols = tuple(catalogue.resolve(text) for text in texts)
    seen: set[str] = set()
    for symbol in symbols:
        if symbol in seen:
            raise Invalid(INVALID, f"duplicate symbol in watchlist: {symbol}")
        seen.add(symbol)
    return symbols


def _key(watchlist_id: str) -> str | None:
    """The stored form of an id (UUIDs in canonical lower case); None for one that cannot exist."""
    if not watchlist_id or "\x00" in watchlist_id or len(watchlist_id) > 64:
        return None
    try:
        return str(uuid.UUID(watchlist_id))
    except ValueError:
        return watchlist_id  # ids from a non-UUID id factory (tests, replays)


def _not_found(watchlist_id: str) -> NotFound:
    return NotFound("watchlist_not_found", f"watchlist not found: {watchlist_id}")


def _owned(uow: UnitOfWork, account_id: str, watchlist_id: str) -> AlpacaWatchlistRecord:
    key = _key(watchlist_id)
    found = None if key is None else uow.watchlists.find(account_id, key)
    if found is None:
        raise _not_found(watchlist_id)
    return found


def _unique_name(uow: UnitOfWork, account_id: str, name: str, watchlist_id: str | None = None) -> None:
    clash = uow.watchlists.find_by_name(account_id, name)
    if clash is not None and clash.id != watchlist_id:
        raise Invalid(INVALID, "watchlist name must be unique")


def _view(record: AlpacaWatchlistRecord, catalogue: _Catalogue, leverage: Decimal) -> WatchlistView:
    described = (catalogue.describe(symbol) for symbol in record.symbols)
    return WatchlistView(record, tuple(info for info in described if info is not None), leverage)


# --- queries -------------------------------------------------------------------------------------


def list_watchlists(ctx: ServiceContext, account_id: str) -> list[AlpacaWatchlistRecord]:
    """The account's watchlists, oldest first (by name among those created at the same moment)."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        return uow.watchlists.of_account(account_id)


def get_watchlist(ctx: ServiceContext, account_id: str, watchlist_id: str) -> WatchlistView:
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        catalogue = _catalogue(uow)
        record = _owned(uow, account_id, watchlist_id)
        leverage = uow.accounts.load_state(account_id).leverage
    return _view(record, catalogue, leverage)


# --- commands (each one transaction under the account's lock) ------------------------------------


def create_watchlist(
    ctx: ServiceContext, account_id: str, name: str, symbols: Sequence[str] = ()
) -> WatchlistView:
    name = _check_name(name)
    now = ctx.clock()
    with account_tx(ctx.engine, account_id) as tx:
        uow = tx.uow
        catalogue = _catalogue(uow)
        stored = _symbols(catalogue, symbols)
        _unique_name(uow, account_id, name)
        record = AlpacaWatchlistRecord(ctx.ids(), account_id, name, stored, now, now)
        uow.watchlists.insert(record)
        leverage = uow.accounts.load_state(account_id).leverage
    return _view(record, catalogue, leverage)


def update_watchlist(
    ctx: ServiceContext,
    account_id: str,
    watchlist_id: str,
    *,
    name: str | None = None,
    symbols: Sequence[str] | None = None,
) -> WatchlistView:
    """Rename and/or replace the symbols (``None`` keeps them; an empty list empties the list)."""
    if name is None and symbols is None:
        raise Invalid(INVALID, "one of name or symbols must be given")
    new_name = None if name is None else _check_name(name)

    def prepare(catalogue: _Catalogue) -> Edit:
        new_symbols = None if symbols is None else _symbols(catalogue, symbols)
        return lambda current: replace(
            current,
            name=current.name if new_name is None else new_name,
            symbols=current.symbols if new_symbols is None else new_symbols,
        )

    return _change(ctx, account_id, watchlist_id, prepare)


def add_symbol(ctx: ServiceContext, account_id: str, watchlist_id: str, symbol: str) -> WatchlistView:
    """Append one asset at the end of the list; 422 if it is already there."""

    def prepare(catalogue: _Catalogue) -> Edit:
        added = catalogue.resolve(symbol)

        def append(current: AlpacaWatchlistRecord) -> AlpacaWatchlistRecord:
            if added in current.symbols:
                raise Invalid(INVALID, f"duplicate symbol in watchlist: {added}")
            return replace(current, symbols=(*current.symbols, added))

        return append

    return _change(ctx, account_id, watchlist_id, prepare)


def remove_symbol(ctx: ServiceContext, account_id: str, watchlist_id: str, symbol: str) -> WatchlistView:
    """Take one asset out of the list (``BTCUSD`` finds ``BTC/USD``); 404 if it is not in it."""

    def prepare(catalogue: _Catalogue) -> Edit:
        known = catalogue.find(symbol)
        wanted = known.symbol if known is not None else symbol.strip().upper()

        def drop(current: AlpacaWatchlistRecord) -> AlpacaWatchlistRecord:
            if wanted not in current.symbols:
                raise NotFound("symbol_not_in_watchlist", f"symbol not found in watchlist: {symbol}")
            return replace(current, symbols=tuple(s for s in current.symbols if s != wanted))

        return drop

    return _change(ctx, account_id, watchlist_id, prepare)


def delete_watchlist(ctx: ServiceContext, account_id: str, watchlist_id: str) -> None:
    key = _key(watchlist_id)
    with account_tx(ctx.engine, account_id) as tx:
        uow = tx.uow
        if key is None or not uow.watchlists.delete(account_id, key):
            raise _not_found(watchlist_id)


def _change(
    ctx: ServiceContext,
    account_id: str,
    watchlist_id: str,
    prepare: Callable[[_Catalogue], Edit],
) -> WatchlistView:
    """Check the request against the catalogue (``prepare``, which raises to refuse), then apply the
    edit it returns (which raises to refuse too) to the current record and store the result; all in
    one transaction under the account's lock."""
    with account_tx(ctx.engine, account_id) as tx:
        uow = tx.uow
        catalogue = _catalogue(uow)
        edit = prepare(catalogue)
        current = _owned(uow, account_id, watchlist_id)
        changed = replace(edit(current), updated_at=ctx.clock())
        if changed.name != current.name:
            _unique_name(uow, account_id, changed.name, current.id)
        uow.watchlists.update(changed)
        leverage = uow.accounts.load_state(account_id).leverage
    return _view(changed, catalogue, leverage)
