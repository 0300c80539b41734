"""An account's activities as Alpaca lists them (``GET /v2/account/activities``).

They read the ledger and the fills in one read-only unit of work.

Activities are FILL (one per fill that was not voided), FEE (one per fill that paid a fee),
CSD (the starting deposit when the account was funded), JNLC (cash adjustments and resets),
OPEXC, OPASN, OPEXP (an option exercised, assigned or expired by the expiry job: ``qty`` is the
position in contracts it settled, ``net_amount`` the cash the settlement moved; the fills that
carry it are listed as FILL activities too), and the corporate actions applied to the account:
DIV (a cash dividend, with symbol, qty and per-share amount), SPLIT (with the quantity after it;
its net amount is any cash in lieu) and NC (a name change).
Each id is ``<UTC yyyymmddhhmmssmmm>::<uuid>``; the uuid is the fill's id or one derived from
what the activity records, so ids never change. Activities are ordered by id, which is time to
the millisecond and then the uuid, so a page token (the last id of a page) splits the list
exactly, whatever was added since.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from propdesk.model.fills import Fill
from propdesk.model.ids import AccountId, OrderId
from propdesk.model.numbers import ZERO
from propdesk.model.orders import OrderStatus
from propdesk.services.alpaca.market_hours import nyse
from propdesk.services.alpaca.params import (
    ACTIVITY_TYPES,
    MAX_YEAR,
    MIN_YEAR,
    invalid_parameter,
    ny_midnight,
    parse_moment,
)
from propdesk.services.context import ServiceContext
from propdesk.store.ledger import LedgerRow
from propdesk.store.order_updates import DERIVED_ID_NAMESPACE, order_id_of_fill
from propdesk.store.uow import UnitOfWork

TRADE_TYPES = frozenset({"FILL"})
# Ledger event types shown as non-trade activities, and the activity type each becomes.
_LEDGER_ACTIVITIES = {
    "account_started": "CSD",
    "cash_adjusted": "JNLC",
    "account_reset": "JNLC",
    "dividend_paid": "DIV",
    "split_applied": "SPLIT",
    "symbol_changed": "NC",
}
# The expiry job's record of each option it settled, shown by what happened to the option.
_OPTION_SETTLED = "option_settled"
_OPTION_ACTIVITIES = {"exercise": "OPEXC", "assignment": "OPASN", "expiry": "OPEXP"}
MAX_PAGE_SIZE = 100
# Ids of activities that are not fills are derived from what they record, in this namespace.
_NAMESPACE = DERIVED_ID_NAMESPACE


class Category(StrEnum):
    TRADE = "trade_activity"
    NON_TRADE = "non_trade_activity"


@dataclass(frozen=True, slots=True)
class ActivityQuery:
    """Alpaca's activity filters, validated (see :func:`activity_query`)."""

    types: frozenset[str]
    since: datetime | None = None  # inclusive
    before: datetime | None = None  # exclusive
    newest_first: bool = True
    page_size: int = MAX_PAGE_SIZE
    page_token: tuple[int, str] | None = None


@dataclass(frozen=True, slots=True)
class TradeActivity:
    id: str
    at: datetime
    fill: Fill
    order_id: OrderId
    cum_qty: Decimal
    leaves_qty: Decimal

    activity_type = "FILL"

    @property
    def partial(self) -> bool:
        return self.leaves_qty > 0

    @property
    def order_status(self) -> OrderStatus:
        """The order's status as of this fill (history does not change when the order does)."""
        return OrderStatus.PARTIALLY_FILLED if self.partial else OrderStatus.FILLED


@dataclass(frozen=True, slots=True)
class CashActivity:
    id: str
    at: datetime
    activity_type: str
    net_amount: Decimal
    description: str
    symbol: str | None = None
    qty: Decimal | None = None
    per_share_amount: Decimal | None = None


Activity = TradeActivity | CashActivity


def _key(activity_id: str) -> tuple[int, str]:
    stamp, _, rest = activity_id.partition("::")
    return int(stamp), rest


def _stamp(moment: datetime) -> int:
    utc = moment.astimezone(UTC)
    return int(f"{utc:%Y%m%d%H%M%S}{utc.microsecond // 1000:03d}")


def _from_stamp(stamp: int) -> datetime:
    text = f"{stamp:017d}"
    moment = datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    return moment + timedelta(milliseconds=int(text[14:]))


def _activity_id(moment: datetime, name: str) -> str:
    return f"{_stamp(moment):017d}::{name}"


def _uuid_of(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return str(uuid.uuid5(_NAMESPACE, text))


def _types(activity_types: str | None, category: str | None, path_type: str | None) -> frozenset[str]:
    if path_type is not None:
        asked = {path_type.strip().upper()}
        if category or activity_types:
            raise invalid_parameter("activity_types and category do not go with an activity type in the path")
    elif category:
        if activity_types:
            raise invalid_parameter("category cannot be used with activity_types")
        try:
            kind = Category(category.strip().lower())
        except ValueError:
            raise invalid_parameter(
                f"category must be trade_activity or non_trade_activity, not {category!r}"
            ) from None
        return TRADE_TYPES if kind is Category.TRADE else ACTIVITY_TYPES - TRADE_TYPES
    elif activity_types:
        asked = {part.strip().upper() for part in activity_types.split(",") if part.strip()}
    else:
        return ACTIVITY_TYPES
    unknown = sorted(asked - ACTIVITY_TYPES)
    if unknown or not asked:
        raise invalid_parameter(f"unknown activity type {', '.join(unknown) or activity_types!r}")
    return frozenset(asked)


def activity_query(
    *,
    activity_type: str | None = None,
    activity_types: str | None = None,
    category: str | None = None,
    day: str | None = None,
    after: str | None = None,
    until: str | None = None,
    direction: str | None = None,
    page_size: str | None = None,
    page_token: str | None = None,
) -> ActivityQuery:
    """Alpaca's query strings as an :class:`ActivityQuery`; anything malformed is a 422.

    ``day`` (Alpaca's ``date``) is a New York calendar day (a time is read as its day there);
    ``after`` and ``until`` are exclusive bounds (a bare date means midnight New York time); a
    day excludes both.
    """
    types = _types(activity_types, category, activity_type)
    since = before = None
    if day:
        if after or until:
            raise invalid_parameter("date cannot be used with after or until")
        moment = parse_moment("date", day)
        assert moment is not None
        local = moment.astimezone(nyse().zone).date()
        since, before = ny_midnight(local), ny_midnight(local + timedelta(days=1))
    else:
        lower = parse_moment("after", after)
        since = None if lower is None else lower + timedelta(microseconds=1)
        before = parse_moment("until", until)
    order = (direction or "desc").strip().lower()
    if order not in ("asc", "desc"):
        raise invalid_parameter(f"direction must be asc or desc, not {direction!r}")
    size = MAX_PAGE_SIZE
    if page_size is not None and page_size.strip() != "":
        if not page_size.strip().isdigit() or not 1 <= int(page_size) <= MAX_PAGE_SIZE:
            raise invalid_parameter(
                f"page_size must be a whole number from 1 to {MAX_PAGE_SIZE}, not {page_size!r}"
            )
        size = int(page_size)
    return ActivityQuery(types, since, before, order == "desc", size, _page_token(page_token))


def _page_token(text: str | None) -> tuple[int, str] | None:
    if not text:
        return None
    match = re.fullmatch(r"(\d{17})::(\S+)", text.strip())
    try:
        if match is None or not MIN_YEAR <= _from_stamp(int(match.group(1))).year <= MAX_YEAR:
            raise ValueError(text)
    except ValueError:
        raise invalid_parameter(f"page_token {text!r} is not an activity id") from None
    return int(match.group(1)), match.group(2)


@dataclass
class _Source:
    """One time-ordered store read (fills or ledger rows), widened until a page is certain."""

    fetch: Callable[[int], Sequence[Any]]
    expand: Callable[[Sequence[Any]], list[Activity]]
    time_of: Callable[[Any], datetime]
    rows: Sequence[Any] = field(default_factory=list)
    truncated: bool = False


def _page(sources: list[_Source], query: ActivityQuery) -> list[Activity]:
    """The page after ``query.page_token`` in id order, reading each source in time order with a
    limit and widening it until the items before every source's last row fill the page."""
    limit = query.page_size + 1
    while True:
        items: list[Activity] = []
        horizon: int | None = None  # items at or past this millisecond may be incomplete
        for source in sources:
            source.rows = source.fetch(limit)
            source.truncated = len(source.rows) >= limit
            items += source.expand(source.rows)
            if source.truncated:
                edge = _stamp(source.time_of(source.rows[-1]))
                if horizon is None:
                    horizon = edge
                else:
                    horizon = max(horizon, edge) if query.newest_first else min(horizon, edge)
        if horizon is not None:
            items = [
                a
                for a in items
                if (_key(a.id)[0] > horizon if query.newest_first else _key(a.id)[0] < horizon)
            ]
        if query.page_token is not None:
            token = query.page_token
            items = [a for a in items if (_key(a.id) < token if query.newest_first else _key(a.id) > token)]
        items.sort(key=lambda a: _key(a.id), reverse=query.newest_first)
        if len(items) >= query.page_size or horizon is None:
            return items[: query.page_size]
        limit *= 4


def account_activities(ctx: ServiceContext, account_id: AccountId, query: ActivityQuery) -> list[Activity]:
    """One page of the account's activities (Alpaca's ``GET /v2/account/activities``)."""
    since, before = query.since, query.before
    if query.page_token is not None:
        edge = _from_stamp(query.page_token[0])
        if query.newest_first:
            cut = edge + timedelta(milliseconds=1)
            before = cut if before is None else min(before, cut)
        else:
            since = edge if since is None else max(since, edge)
    if since is not None and before is not None and since >= before:
        return []
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        sources: list[_Source] = []
        if query.types & {"FILL", "FEE"}:

            def fetch_fills(limit: int) -> Sequence[Fill]:
                return uow.fills.live_page(
                    account_id, since=since, before=before, newest_first=query.newest_first, limit=limit
                )

            def expand_fills(fills: Sequence[Fill]) -> list[Activity]:
                return _fill_activities(uow, account_id, fills, query.types)

            sources.append(_Source(fetch_fills, expand_fills, lambda f: f.time))
        ledger_types = [kind for kind, shown in _LEDGER_ACTIVITIES.items() if shown in query.types]
        if query.types & set(_OPTION_ACTIVITIES.values()):
            ledger_types.append(_OPTION_SETTLED)
        if ledger_types:

            def fetch_ledger(limit: int) -> Sequence[LedgerRow]:
                return uow.accounts.ledger_of_types(
                    account_id,
                    ledger_types,
                    since=since,
                    before=before,
                    newest_first=query.newest_first,
                    limit=limit,
                )

            def expand_ledger(rows: Sequence[LedgerRow]) -> list[Activity]:
                found = [_ledger_activity(account_id, row) for row in rows]
                return [a for a in found if a.activity_type in query.types]

            sources.append(_Source(fetch_ledger, expand_ledger, lambda r: r.at))
        return _page(sources, query) if sources else []


def _fill_activities(
    uow: UnitOfWork, account_id: AccountId, fills: Sequence[Fill], types: frozenset[str]
) -> list[Activity]:
    activities: list[Activity] = []
    if "FILL" in types:
        order_ids = sorted({f.order_id for f in fills if f.order_id is not None})
        orders = uow.orders.find_many(account_id, order_ids)
        cumulative: dict[str, Decimal] = {}
        running: dict[str, Decimal] = {}
        for earlier in uow.fills.live_for_orders(account_id, order_ids):
            assert earlier.order_id is not None
            running[earlier.order_id] = running.get(earlier.order_id, ZERO) + earlier.qty
            cumulative[earlier.fill_id] = running[earlier.order_id]
        for fill in fills:
            order = orders.get(fill.order_id) if fill.order_id is not None else None
            if order is None:  # a fill of no order (a liquidation, a flatten): complete on its own
                cum, leaves = fill.qty, ZERO
                order_id = order_id_of_fill(fill.fill_id)
            else:
                cum = cumulative.get(fill.fill_id, fill.qty)
                leaves = max(order.qty - cum, ZERO)
                order_id = _uuid_of(order.id)
            activities.append(
                TradeActivity(
                    _activity_id(fill.time, _uuid_of(fill.fill_id)),
                    fill.time,
                    fill,
                    OrderId(order_id),
                    cum,
                    leaves,
                )
            )
    if "FEE" in types:
        activities += [
            CashActivity(
                _activity_id(fill.time, str(uuid.uuid5(_NAMESPACE, f"fee:{fill.fill_id}"))),
                fill.time,
                "FEE",
                -fill.fee,
                f"fee on fill {fill.fill_id}"
                + (f" of order {fill.order_id}" if fill.order_id else "")
                + f": {fill.side.value} {fill.qty} {fill.symbol} @ {fill.price}",
                symbol=fill.symbol,
                qty=fill.qty,
            )
            for fill in fills
            if fill.fee
        ]
    return activities


def _option_activity(activity_id: str, row: LedgerRow) -> CashActivity:
    payload = row.payload
    kind = _OPTION_ACTIVITIES[str(payload["action"])]
    qty = Decimal(str(payload["qty"]))
    price = payload.get("settlement_price")
    description = (
        f"{payload['action']} of {qty} {payload['symbol']} (strike {payload['strike']}): "
        f"{payload['underlying']} settled at {price} ({payload['settlement_source']}) on {payload['trading_date']}"
    )
    return CashActivity(
        activity_id,
        row.at,
        kind,
        Decimal(str(payload.get("net_amount", "0"))),
        description,
        symbol=str(payload["symbol"]),
        qty=qty,
    )


def _ledger_activity(account_id: AccountId, row: LedgerRow) -> CashActivity:
    name = str(uuid.uuid5(_NAMESPACE, f"ledger:{account_id}:{row.seq}"))
    if row.type == _OPTION_SETTLED:
        return _option_activity(_activity_id(row.at, name), row)
    kind = _LEDGER_ACTIVITIES[row.type]
    payload = row.payload
    if row.type == "account_started":
        description = f"initial deposit: account funded with {row.cash_delta} {payload.get('currency', '')}"
    elif row.type == "account_reset":
        description = f"account reset to its starting balance of {payload.get('starting_balance', '')}"
        if payload.get("reason"):
            description += f": {payload['reason']}"
        archived = [
            f"{p['qty']} {p['instrument']['symbol']}"
            for p in payload.get("archived", ())
            if "instrument" in p
        ]
        if archived:
            description += f"; positions archived: {', '.join(archived)}"
    elif row.type == "dividend_paid":
        return CashActivity(
            _activity_id(row.at, name),
            row.at,
            kind,
            row.cash_delta,
            f"cash dividend of {payload['rate']} per share on {payload['qty']} {payload['symbol']}",
            symbol=str(payload["symbol"]),
            qty=Decimal(payload["qty"]),
            per_share_amount=Decimal(payload["rate"]),
        )
    elif row.type == "split_applied":
        description = (
            f"{payload['new_rate']}-for-{payload['old_rate']} split: {payload['qty_before']} -> "
            f"{payload['qty_after']} {payload['symbol']}"
        )
        if Decimal(payload["lieu_qty"]):
            description += f"; cash in lieu for {payload['lieu_qty']} at {payload['lieu_price']}"
        return CashActivity(
            _activity_id(row.at, name),
            row.at,
            kind,
            row.cash_delta,
            description,
            symbol=str(payload["symbol"]),
            qty=Decimal(payload["qty_after"]),
        )
    elif row.type == "symbol_changed":
        description = f"name change: {payload['old_symbol']} is now {payload['new_symbol']}"
        return CashActivity(
            _activity_id(row.at, name),
            row.at,
            kind,
            row.cash_delta,
            description,
            symbol=str(payload["new_symbol"]),
        )
    else:
        description = str(payload.get("reason", ""))
    return CashActivity(_activity_id(row.at, name), row.at, kind, row.cash_delta, description.strip())
