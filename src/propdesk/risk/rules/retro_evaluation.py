"""Retroactive evaluation: replay a trader's own fills through a pack.

The fills go through the account kernel (exact PnL, fees, multipliers) and every resulting state
through the pack's rule state, so the report says when the account would have failed, locked a
day or passed under the pack, with the floor path behind it. Fills a platform would have refused
(a locked day, the flat-by window, more contracts than the session allows) are still applied, as
they happened, and listed. Once the evaluation fails or passes the remaining rows are not
applied.

CSV format (a header row is required; column names are case-insensitive; other columns are
ignored and listed in the report)::

    time,symbol,side,qty,price,fee,kind
    2026-03-02T09:31:05-06:00,MESH26,buy,2,5000.25,1.24,fill
    2026-03-02T09:40:00-06:00,MESH26,,,5003.00,,mark

* ``time``: ISO 8601 with an offset or ``Z`` (naive times need ``default_zone``);
* ``symbol``: ``ESZ26``, ``/MES`` or a bare futures root (``MES``) are futures; OCC symbols are
  options; ``BTC/USD`` crypto; anything else an equity (or pass ``asset_class``);
* ``side``: ``buy``/``sell`` (also ``b``/``s``, ``long``/``short``); ``qty`` positive;
* ``price``: the fill price, or for ``kind=mark`` the mark price of ``symbol``;
* ``fee``: optional, non-negative, in account currency; ``kind``: ``fill`` (default) or ``mark``.

Numbers are parsed as decimals exactly as written. Rows are replayed in time order (ties keep
file order).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from propdesk.accounting.events import FillApplied
from propdesk.accounting.kernel import ApplyFill, CommandRejected, MarkToPrices, Start, handle
from propdesk.accounting.state import AccountState
from propdesk.model.fills import Fill
from propdesk.model.instruments import FUTURE_ROOTS, AssetClass, Instrument, InvalidSymbolError, future
from propdesk.model.instruments import parse_instrument as _parse_instrument
from propdesk.model.numbers import ZERO, NotExactError, parse_decimal
from propdesk.model.orders import Side
from propdesk.risk.gates import OrderIntent, check_rule_gates
from propdesk.risk.rules.evaluate import evaluate
from propdesk.risk.rules.floors import daily_floor
from propdesk.risk.rules.fold import advance_to, observe, start_rules
from propdesk.risk.rules.observations import observation_from_account
from propdesk.risk.rules.pack import RulePack
from propdesk.risk.rules.sessions import clock_of
from propdesk.risk.rules.state import Breach, DayRecord, Outcome, RuleState
from propdesk.risk.rules.status import RuleStatus

REQUIRED = ("time", "symbol", "side", "qty", "price")
KNOWN = (*REQUIRED, "fee", "kind")
_SIDES = {
    "buy": Side.BUY,
    "b": Side.BUY,
    "long": Side.BUY,
    "sell": Side.SELL,
    "s": Side.SELL,
    "short": Side.SELL,
}


class TradesCsvError(ValueError):
    """A trades file that does not parse; the message names the line and the column."""


@dataclass(frozen=True, slots=True)
class TradeRow:
    line: int
    at: datetime
    kind: str
    symbol: str
    side: Side | None
    qty: Decimal | None
    price: Decimal
    fee: Decimal


@dataclass(frozen=True, slots=True)
class TradesFile:
    rows: tuple[TradeRow, ...]
    ignored_columns: tuple[str, ...]
    reordered: bool


def _parse_time(text: str, line: int, zone: ZoneInfo | None) -> datetime:
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        raise TradesCsvError(f"line {line}: time {text!r} is not ISO 8601") from None
    if value.tzinfo is None:
        if zone is None:
            raise TradesCsvError(f"line {line}: time {text!r} has no UTC offset (give a time zone)")
        value = value.replace(tzinfo=zone)
    return value


def _number(text: str, line: int, column: str) -> Decimal:
    try:
        # Thousands separators ("1,234.50", as broker exports write them) are dropped first.
        return parse_decimal(text.strip(" \t").replace(",", ""), field=column, signed=True)
    except NotExactError as exc:
        raise TradesCsvError(f"line {line}: {exc}") from None


def parse_trades_csv(text: str, *, default_zone: ZoneInfo | None = None) -> TradesFile:
    """Parse a trades CSV (see the module docstring); raises :class:`TradesCsvError`."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        raise TradesCsvError("the file is empty: a header row is required")
    columns = {name.strip().lower(): name for name in reader.fieldnames if name}
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise TradesCsvError(f"missing column(s): {', '.join(missing)} (header: {', '.join(columns)})")
    ignored = tuple(c for c in columns if c not in KNOWN)
    rows: list[TradeRow] = []
    for number, raw in enumerate(reader, start=2):

        def cell(name: str, raw: dict[str, str] = raw) -> str:
            key = columns.get(name)
            value = raw.get(key) if key is not None else None
            return (value or "").strip()

        if not any((v or "").strip() for v in raw.values()):
            continue
        kind = (cell("kind") or "fill").lower()
        if kind not in ("fill", "mark"):
            raise TradesCsvError(f"line {number}: kind {kind!r} is not 'fill' or 'mark'")
        at = _parse_time(cell("time"), number, default_zone)
        symbol = cell("symbol").upper()
        if not symbol:
            raise TradesCsvError(f"line {number}: symbol is empty")
        price = _number(cell("price"), number, "price")
        if kind == "mark":
            rows.append(TradeRow(number, at, kind, symbol, None, None, price, ZERO))
            continue
        side = _SIDES.get(cell("side").lower())
        if side is None:
            raise TradesCsvError(f"line {number}: side {cell('side')!r} is not buy or sell")
        qty = _number(cell("qty"), number, "qty")
        if qty <= 0:
            raise TradesCsvError(f"line {number}: qty must be positive, got {qty}")
        fee = _number(cell("fee"), number, "fee") if cell("fee") else ZERO
        if fee < 0:
            raise TradesCsvError(f"line {number}: fee must not be negative, got {fee}")
        rows.append(TradeRow(number, at, kind, symbol, side, qty, price, fee))
    ordered = sorted(rows, key=lambda r: r.at)
    return TradesFile(tuple(ordered), ignored, ordered != rows)


def resolve_instrument(symbol: str, asset_class: AssetClass | None = None) -> Instrument:
    """The instrument a trades file means by ``symbol``; a bare futures root is a future here."""
    if asset_class is None and symbol.upper() in FUTURE_ROOTS:
        return future(symbol.upper())
    return _parse_instrument(symbol, asset_class)


@dataclass(frozen=True, slots=True)
class FloorPoint:
    """The account and its floors right after one replayed row."""

    line: int
    at: datetime
    trading_day: date
    kind: str
    equity: Decimal
    balance: Decimal
    max_loss_floor: Decimal | None
    daily_floor: Decimal | None
    effective_capital: Decimal
    outcome: Outcome
    day_locked: bool


@dataclass(frozen=True, slots=True)
class BlockedFill:
    line: int
    at: datetime
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReplayReport:
    pack_key: str
    rows: int
    fills_applied: int
    marks_applied: int
    outcome: Outcome
    outcome_rule: str | None
    outcome_at: datetime | None
    breaches: tuple[Breach, ...]
    not_applied: int
    blocked_fills: tuple[BlockedFill, ...]
    held_past_flat_by: tuple[date, ...]
    points: tuple[FloorPoint, ...]
    days: tuple[DayRecord, ...]
    closed_trades: tuple[Decimal, ...]
    ignored_columns: tuple[str, ...]
    reordered: bool
    final: RuleStatus


def _point(pack: RulePack, state: RuleState, row: TradeRow) -> FloorPoint:
    daily = daily_floor(pack, state)
    cushions = []
    if state.max_loss_floor is not None:
        cushions.append(state.equity - state.max_loss_floor)
    if daily is not None:
        cushions.append(state.equity - daily[0])
    return FloorPoint(
        line=row.line,
        at=row.at,
        trading_day=state.trading_day,
        kind=row.kind,
        equity=state.equity,
        balance=state.balance,
        max_loss_floor=state.max_loss_floor,
        daily_floor=daily[0] if daily is not None else None,
        effective_capital=min(cushions) if cushions else state.equity,
        outcome=state.outcome,
        day_locked=state.day_locked,
    )


def replay_trades(
    pack: RulePack,
    trades: TradesFile,
    *,
    asset_class: AssetClass | None = None,
    starting_balance: Decimal | None = None,
    close_last_day: bool = True,
) -> ReplayReport:
    """Replay ``trades`` through ``pack``; ``close_last_day`` rolls past the last session's end
    so that its end-of-day rules (trailing, end-of-day passing) apply."""
    if not trades.rows:
        raise TradesCsvError("the file has no trades")
    start_at = trades.rows[0].at
    balance = pack.starting_balance if starting_balance is None else starting_balance
    account = handle(AccountState(account_id="replay"), Start(at=start_at, starting_cash=balance)).state
    rules = start_rules(pack, start_at, starting_balance=balance)
    points: list[FloorPoint] = []
    blocked: list[BlockedFill] = []
    closed: list[Decimal] = []
    running: dict[str, Decimal] = {}
    fills = marks = 0
    applied = 0
    late: list[date] = []
    clock = clock_of(pack)
    for row in trades.rows:
        if rules.outcome is not Outcome.ACTIVE:
            break
        if pack.flat_by is not None and account.positions:
            flat_at = clock.flat_by_instant(rules.trading_day, pack.flat_by.time)
            if row.at > flat_at and rules.trading_day not in late:
                late.append(rules.trading_day)
        try:
            instrument = resolve_instrument(row.symbol, asset_class)
        except InvalidSymbolError as exc:
            raise TradesCsvError(f"line {row.line}: {exc}") from None
        if row.kind == "mark":
            try:
                account = handle(
                    account, MarkToPrices(at=row.at, prices={instrument.symbol: row.price})
                ).state
            except CommandRejected as exc:
                raise TradesCsvError(f"line {row.line}: {exc.message}") from None
            rules = observe(pack, rules, observation_from_account(pack, account, row.at))
            marks += 1
        else:
            assert row.side is not None
            assert row.qty is not None
            intent = OrderIntent(instrument.symbol, instrument.asset_class, row.side, row.qty)
            report = check_rule_gates(pack, rules, account=account, order=intent, now=row.at)
            if not report.passed:
                blocked.append(BlockedFill(row.line, row.at, tuple(f.message for f in report.failures)))
            fill = Fill(
                fill_id=f"line-{row.line}",
                order_id=None,
                instrument=instrument.spec,
                side=row.side,
                qty=row.qty,
                price=row.price,
                fee=row.fee,
                time=row.at,
            )
            decision = handle(account, ApplyFill(at=row.at, fill=fill))
            account = decision.state
            event = next(e for e in decision.events if isinstance(e, FillApplied))
            rules = observe(pack, rules, observation_from_account(pack, account, row.at, fill_event=event))
            run = running.get(instrument.symbol, ZERO) + event.realized_pnl - fill.fee
            after = event.position_qty_after
            before = after - fill.signed_qty
            if before != 0 and (after == 0 or before * after < 0):
                closed.append(run)
                run = ZERO
            if after == 0:
                running.pop(instrument.symbol, None)
            else:
                running[instrument.symbol] = run
            fills += 1
        applied += 1
        points.append(_point(pack, rules, row))
    end = trades.rows[applied - 1].at if applied else start_at
    if close_last_day and rules.outcome is Outcome.ACTIVE:
        end = clock.session_end(rules.trading_day)
        rules = advance_to(pack, rules, end)
    final = evaluate(pack, rules, max(end, rules.last_at))
    return ReplayReport(
        pack_key=pack.key,
        rows=len(trades.rows),
        fills_applied=fills,
        marks_applied=marks,
        outcome=rules.outcome,
        outcome_rule=rules.outcome_rule,
        outcome_at=rules.outcome_at,
        breaches=rules.breaches,
        not_applied=len(trades.rows) - applied,
        blocked_fills=tuple(blocked),
        held_past_flat_by=tuple(late),
        points=tuple(points),
        days=rules.days,
        closed_trades=tuple(closed),
        ignored_columns=trades.ignored_columns,
        reordered=trades.reordered,
        final=final,
    )
