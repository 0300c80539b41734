"""Corporate actions: import them (CSV, Alpaca) and apply those of a trading date to every account.

:func:`run_corporate_actions` applies the actions whose ex-date is ``trading_date`` to each account
that holds the symbol or has an open order in it, one account per transaction
(:func:`apply_to_account`): the kernel decides the ledger events (``DividendPaid``, ``SplitApplied``,
``SymbolChanged``, each with its ``cash_delta``), the open orders of the symbol are rescaled or
renamed with a ``replaced`` trade update, the rule state observes the account, and the
(account, action) pair is recorded, so a rerun applies nothing twice and a run killed half-way
resumes with the accounts it had not reached.

The job runs before the ex-date's session opens: the position held then is the position held at
the prior close, which is the one entitled to a dividend and the one a split applies to.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation

from propdesk.accounting.events import Event
from propdesk.accounting.kernel import CommandRejected, handle
from propdesk.marketdata.alpaca import AlpacaDataClient
from propdesk.model.ids import AccountId
from propdesk.model.instruments import PENNY, SUB_DOLLAR_TICK
from propdesk.model.numbers import ONE
from propdesk.model.orders import Order, OrderUpdate
from propdesk.services.accounts import rules
from propdesk.services.context import ServiceContext
from propdesk.services.transactions import AccountTx, account_tx, open_tx
from propdesk.store.corporate_actions import ActionType, CorporateAction, CorporateActionRepository, action_id
from propdesk.store.order_updates import update_row
from propdesk.store.uow import UnitOfWork

log = logging.getLogger(__name__)

CSV_COLUMNS = ("type", "symbol", "ex_date", "payable_date", "cash", "old_rate", "new_rate", "new_symbol")
_SYMBOL = re.compile(r"[A-Z][A-Z0-9.\-]{0,9}")


class CorporateActionFileError(ValueError):
    """A corporate-actions file that does not validate; the message names the line."""


def _decimal(text: str, name: str, where: str) -> Decimal | None:
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CorporateActionFileError(f"{where}: {name} {text!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise CorporateActionFileError(f"{where}: {name} must be a positive number, got {text!r}")
    return value


def _date(text: str, name: str, where: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CorporateActionFileError(f"{where}: {name} {text!r} is not a date (YYYY-MM-DD)") from None


def _action(values: Mapping[str, str], where: str, source: str) -> CorporateAction:
    try:
        kind = ActionType(values["type"])
    except ValueError:
        raise CorporateActionFileError(
            f"{where}: type {values['type']!r} is not one of dividend, split, name_change"
        ) from None
    symbol = values["symbol"]
    if not _SYMBOL.fullmatch(symbol):
        raise CorporateActionFileError(f"{where}: symbol {symbol!r} is not a stock symbol")
    ex_date = _date(values["ex_date"], "ex_date", where)
    if ex_date is None:
        raise CorporateActionFileError(f"{where}: ex_date is required")
    payable = _date(values["payable_date"], "payable_date", where)
    if payable is not None and payable < ex_date:
        raise CorporateActionFileError(f"{where}: payable_date {payable} is before the ex_date {ex_date}")
    cash = _decimal(values["cash"], "cash", where)
    old_rate = _decimal(values["old_rate"], "old_rate", where)
    new_rate = _decimal(values["new_rate"], "new_rate", where)
    new_symbol = values["new_symbol"] or None
    given = {"cash": cash, "old_rate": old_rate, "new_rate": new_rate, "new_symbol": new_symbol}
    needed = {
        ActionType.DIVIDEND: {"cash"},
        ActionType.SPLIT: {"old_rate", "new_rate"},
        ActionType.NAME_CHANGE: {"new_symbol"},
    }[kind]
    missing = sorted(n for n in needed if given[n] is None)
    extra = sorted(n for n, v in given.items() if v is not None and n not in needed)
    if missing:
        raise CorporateActionFileError(f"{where}: a {kind.value} needs {', '.join(missing)}")
    if extra:
        raise CorporateActionFileError(f"{where}: a {kind.value} takes no {', '.join(extra)}")
    if kind is ActionType.SPLIT and old_rate == new_rate:
        raise CorporateActionFileError(f"{where}: a split of {old_rate} into {new_rate} changes nothing")
    if new_symbol is not None and (not _SYMBOL.fullmatch(new_symbol) or new_symbol == symbol):
        raise CorporateActionFileError(f"{where}: new_symbol {new_symbol!r} is not a new stock symbol")
    return CorporateAction(
        id=action_id(kind, symbol, ex_date),
        type=kind,
        symbol=symbol,
        ex_date=ex_date,
        payable_date=payable,
        cash=cash,
        old_rate=old_rate,
        new_rate=new_rate,
        new_symbol=new_symbol,
        source=source,
    )


def parse_corporate_actions(text: str, *, source: str = "csv") -> list[CorporateAction]:
    """Validate a corporate-actions CSV (header :data:`CSV_COLUMNS`; ``#`` lines and blank lines
    are comments); the first error raises :class:`CorporateActionFileError` naming its line."""
    actions: list[CorporateAction] = []
    seen: dict[tuple[str, str, date], int] = {}
    header_line: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = [f.strip() for f in next(csv.reader(io.StringIO(stripped)))]
        if header_line is None:
            if tuple(fields) != CSV_COLUMNS:
                raise CorporateActionFileError(
                    f"line {number}: the header must be {','.join(CSV_COLUMNS)}, got {stripped!r}"
                )
            header_line = number
            continue
        where = f"line {number}"
        if len(fields) != len(CSV_COLUMNS):
            raise CorporateActionFileError(f"{where}: {len(fields)} fields, expected {len(CSV_COLUMNS)}")
        action = _action(dict(zip(CSV_COLUMNS, fields, strict=True)), where, source)
        if action.key in seen:
            raise CorporateActionFileError(f"{where}: the same action as line {seen[action.key]}")
        seen[action.key] = number
        actions.append(action)
    if header_line is None:
        raise CorporateActionFileError(f"line 1: no header ({','.join(CSV_COLUMNS)})")
    return actions


@dataclass(frozen=True, slots=True)
class ImportResult:
    read: int
    stored: int


def store_corporate_actions(ctx: ServiceContext, actions: Sequence[CorporateAction]) -> ImportResult:
    """Store ``actions`` in one transaction; those already stored with the same terms are skipped,
    one stored with other terms refuses the whole batch
    (:class:`~propdesk.store.corporate_actions.CorporateActionConflict`)."""
    with open_tx(ctx.engine) as uow:
        stored = CorporateActionRepository(uow.connection).add(actions, ctx.clock())
    return ImportResult(len(actions), stored)


def import_corporate_actions(ctx: ServiceContext, text: str, *, source: str = "csv") -> ImportResult:
    """Validate a CSV in full, then store it in one transaction (nothing on any error)."""
    return store_corporate_actions(ctx, parse_corporate_actions(text, source=source))


def fetch_corporate_actions(
    ctx: ServiceContext, client: AlpacaDataClient, symbols: Sequence[str], *, start: date, end: date
) -> ImportResult:
    """Fetch the cash dividends, splits and name changes of ``symbols`` with ex-dates in
    ``[start, end]`` from Alpaca's corporate-actions API and store them like an import (the same
    action imported from a CSV is not stored twice; other terms for it are a conflict)."""
    return store_corporate_actions(ctx, client.corporate_actions(symbols, start=start, end=end))


def list_corporate_actions(ctx: ServiceContext) -> list[CorporateAction]:
    """Every stored action by ex-date."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        return CorporateActionRepository(uow.connection).all()


# --- applying ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Applied:
    """What one action did to one account (``events`` empty when it held nothing of the symbol)."""

    account_id: AccountId
    action_id: str
    type: ActionType
    symbol: str
    events: tuple[Event, ...]
    orders: tuple[str, ...]


def _tick(price: Decimal) -> Decimal:
    return PENNY if abs(price) >= ONE else SUB_DOLLAR_TICK


def _scaled_price(price: Decimal | None, old_rate: Decimal, new_rate: Decimal) -> Decimal | None:
    """A limit, stop or trail price after the split, on the price grid (half-even)."""
    if price is None:
        return None
    raw = price * old_rate / new_rate
    return raw.quantize(_tick(raw), rounding=ROUND_HALF_EVEN)


def rescaled_order(order: Order, action: CorporateAction, *, whole_shares: bool) -> Order:
    """``order`` after ``action``: a split scales its quantities by the ratio (whole shares rounded
    down when fractions are not allowed) and its prices by the inverse, on the tick grid; a name
    change renames it. Its reservation is kept (the notional is unchanged up to rounding)."""
    if action.type is ActionType.NAME_CHANGE:
        assert action.new_symbol is not None
        return replace(order, symbol=action.new_symbol)
    if action.type is not ActionType.SPLIT:
        return order
    assert action.old_rate is not None
    assert action.new_rate is not None
    old, new = action.old_rate, action.new_rate
    qty = order.qty * new / old
    filled = order.filled_qty * new / old
    if whole_shares:
        qty = qty.to_integral_value(rounding=ROUND_DOWN)
    return replace(
        order,
        qty=max(qty, filled),
        filled_qty=filled,
        limit_price=_scaled_price(order.limit_price, old, new),
        stop_price=_scaled_price(order.stop_price, old, new),
        trail_price=_scaled_price(order.trail_price, old, new),
        watermark=_scaled_price(order.watermark, old, new),
    )


def _whole_shares(uow: UnitOfWork, symbol: str) -> bool:
    """Fractions are paid in cash where the asset catalogue marks the symbol not fractionable."""
    flags = uow.orders.asset_flags([symbol]).get(symbol)
    return flags is not None and not flags.fractionable


def _apply_in(ctx: ServiceContext, tx: AccountTx, action: CorporateAction) -> Applied:
    uow = tx.uow
    account_id = AccountId(tx.account.id)
    repo = CorporateActionRepository(uow.connection)
    whole = _whole_shares(uow, action.symbol)
    events: list[Event] = []
    if tx.state.status.is_open:
        decision = handle(tx.state, action.command(ctx.clock(), whole_shares=whole))
        events = list(decision.events)
        if events:
            tx.save(decision.state, events, causation_id=action.id, recorded_at=ctx.clock())
    changed: list[Order] = []
    if action.type is not ActionType.DIVIDEND:
        now = ctx.clock()
        for order in uow.orders.open_orders(account_id):
            if order.symbol != action.symbol:
                continue
            changed.append(replace(rescaled_order(order, action, whole_shares=whole), updated_at=now))
        if changed:
            uow.orders.save(changed, known=[o.id for o in changed], payloads={})
            uow.orders.record_updates([update_row(account_id, OrderUpdate.REPLACED, o, now) for o in changed])
    repo.mark_applied(account_id, action.id, ctx.clock())
    return Applied(
        account_id, action.id, action.type, action.symbol, tuple(events), tuple(o.id for o in changed)
    )


def apply_to_account(
    ctx: ServiceContext, account_id: AccountId, actions: Iterable[CorporateAction]
) -> list[Applied]:
    """Apply ``actions`` (in order) to one account in one transaction, skipping those already
    applied to it; then the rule state observes the account."""
    done: list[Applied] = []
    with account_tx(ctx.engine, account_id) as tx:
        repo = CorporateActionRepository(tx.uow.connection)
        before = tx.state
        for action in actions:
            if repo.is_applied(account_id, action.id):
                continue
            done.append(_apply_in(ctx, tx, action))
        if not done:
            tx.uow.rollback()
            return []
        events = [e for a in done for e in a.events]
        if events and before.status.is_open:
            rules.fold(ctx, tx.uow, tx.account, tx.state, events)
    return done


def accounts_for(
    ctx: ServiceContext, actions: Sequence[CorporateAction]
) -> dict[AccountId, list[CorporateAction]]:
    """Which accounts each action touches (holding the symbol or an open order in it), by account."""
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        repo = CorporateActionRepository(uow.connection)
        touched: dict[AccountId, list[CorporateAction]] = {}
        for action in actions:
            for account in repo.accounts_touched(action.symbol):
                touched.setdefault(AccountId(account), []).append(action)
    return dict(sorted(touched.items()))


def actions_on(ctx: ServiceContext, trading_date: date) -> list[CorporateAction]:
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        return CorporateActionRepository(uow.connection).on(trading_date)


def run_corporate_actions(ctx: ServiceContext, trading_date: date) -> list[Applied]:
    """Apply the actions whose ex-date is ``trading_date`` to every account they touch, one
    transaction per account; idempotent per (account, action). An account the kernel refuses an
    action for (a name change to a symbol it already holds) is logged and left as it was (none
    of that date's actions applied to it, so a rerun after a fix applies them); the others go on."""
    actions = actions_on(ctx, trading_date)
    applied: list[Applied] = []
    for account_id, mine in accounts_for(ctx, actions).items():
        try:
            done = apply_to_account(ctx, account_id, mine)
        except CommandRejected as exc:
            log.error("corporate actions of %s refused for %s: %s", trading_date, account_id, exc.message)
            continue
        for item in done:
            log.info(
                "corporate action %s %s applied to %s: %d events, %d orders",
                item.type.value,
                item.symbol,
                account_id,
                len(item.events),
                len(item.orders),
            )
        applied += done
    return applied
