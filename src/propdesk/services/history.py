"""An account's past as Alpaca shows it: portfolio history and account activities.

Both read the ledger, the account's only truth, in one read-only unit of work.

**Portfolio history** folds the ledger once with the kernel's ``evolve`` and samples the equity
(cash plus positions at the last marks known) at each reporting time: for ``1D`` the close of
every NYSE session (labelled 00:00 New York time of its day, as Alpaca's daily bars), for the
intraday timeframes every step from the open to the close, the close included (04:00–20:00 with
extended hours, a plain 24/7 grid when ``continuous``). Points before the account was funded are
left out rather than shown as zero. P/L is measured from ``base_value``: the equity at the close
of the session before the first point or, for an account that did not exist then, the balance it
was funded with. Intraday P/L restarts each trading day from the previous close unless
``pnl_reset=no_reset``. Money is exact ``Decimal`` here; the API turns it into JSON numbers.

**Activities** are FILL (one per fill that was not voided), FEE (one per fill that paid a fee),
CSD (the starting deposit when the account was funded) and JNLC (cash adjustments and resets).
Each id is ``<UTC yyyymmddhhmmssmmm>::<uuid>``; the uuid is the fill's id or one derived from
what the activity records, so ids never change. Activities are ordered by id, which is time to
the millisecond and then the uuid, so a page token (the last id of a page) splits the list
exactly, whatever was added since.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from propdesk.accounting.events import AccountStarted, CashAdjusted, FillApplied
from propdesk.accounting.kernel import evolve
from propdesk.accounting.state import AccountState
from propdesk.marketdata.calendars import Session, TradingCalendar
from propdesk.model.fills import Fill
from propdesk.model.numbers import ZERO
from propdesk.model.orders import OrderStatus
from propdesk.services.context import ServiceContext
from propdesk.services.errors import Invalid
from propdesk.services.market_hours import EXTENDED_AFTER_CLOSE, EXTENDED_OPEN, nyse
from propdesk.store.accounts import LedgerRow
from propdesk.store.uow import UnitOfWork

# Times outside these years are refused rather than reasoned about (calendars, overflow).
MIN_YEAR, MAX_YEAR = 1900, 2200


def _invalid(message: str) -> Invalid:
    return Invalid("invalid_request", message)


def _parse_moment(name: str, text: str | None, *, end_of_day: bool = False) -> datetime | None:
    """An RFC 3339 time (naive means UTC, as alpaca-py sends) or a date, read as midnight in New
    York (``end_of_day``: the following midnight)."""
    if text is None or text.strip() == "":
        return None
    # An unencoded "+" of an offset arrives as a space.
    value = re.sub(r" (\d{2}:?\d{2})$", r"+\1", text.strip()).replace("Z", "+00:00")
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time(), tzinfo=nyse().zone)
        else:
            moment = datetime.fromisoformat(value)
    except ValueError:
        raise _invalid(f"{name} must be an RFC 3339 time or a date, not {text!r}") from None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise _invalid(f"{name} must lie between the years {MIN_YEAR} and {MAX_YEAR}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if end_of_day and len(value) == 10:
        moment = datetime.combine(moment.date() + timedelta(days=1), time(), tzinfo=nyse().zone)
    return moment.astimezone(UTC)


def _ny_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=nyse().zone).astimezone(UTC)


# --- portfolio history -----------------------------------------------------------------------------


class Timeframe(StrEnum):
    MIN1 = "1Min"
    MIN5 = "5Min"
    MIN15 = "15Min"
    HOUR1 = "1H"
    DAY1 = "1D"

    @property
    def step(self) -> timedelta:
        return _STEPS[self]


_STEPS = {
    Timeframe.MIN1: timedelta(minutes=1),
    Timeframe.MIN5: timedelta(minutes=5),
    Timeframe.MIN15: timedelta(minutes=15),
    Timeframe.HOUR1: timedelta(hours=1),
    Timeframe.DAY1: timedelta(days=1),
}
# Alpaca's spellings besides the canonical ones (the data API's ``1Hour``, ``1Day``, ...).
_TIMEFRAME_ALIASES = {
    "1min": Timeframe.MIN1,
    "5min": Timeframe.MIN5,
    "15min": Timeframe.MIN15,
    "1h": Timeframe.HOUR1,
    "1hour": Timeframe.HOUR1,
    "60min": Timeframe.HOUR1,
    "1d": Timeframe.DAY1,
    "1day": Timeframe.DAY1,
}
# Intraday timeframes cover at most 30 days (Alpaca refuses longer intraday queries).
INTRADAY_MAX_DAYS = 30


class Reporting(StrEnum):
    MARKET_HOURS = "market_hours"
    EXTENDED_HOURS = "extended_hours"
    CONTINUOUS = "continuous"


class PnlReset(StrEnum):
    PER_DAY = "per_day"
    NO_RESET = "no_reset"


_PERIOD = re.compile(r"^([1-9][0-9]{0,3})([DWMA])$", re.IGNORECASE)
# Approximate days per unit: only for the default timeframe and the 30-day intraday limit.
_UNIT_DAYS = {"D": 1, "W": 7, "M": 30, "A": 365}


def _add_months(day: date, months: int) -> date:
    """``day`` moved by whole months (the 31st becomes the month's last day), kept within
    :data:`MIN_YEAR` .. :data:`MAX_YEAR`."""
    index = day.year * 12 + day.month - 1 + months
    index = max(MIN_YEAR * 12, min(index, MAX_YEAR * 12 + 11))
    year, month = divmod(index, 12)
    month += 1
    days_in_month = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, days_in_month))


@dataclass(frozen=True, slots=True)
class Period:
    """``<n>D`` (market days), ``<n>W``, ``<n>M`` or ``<n>A`` (calendar weeks, months, years)."""

    count: int
    unit: str

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD.match(text.strip())
        if match is None:
            raise _invalid(f"period must be <number><D|W|M|A> (e.g. 1M), not {text!r}")
        return cls(int(match.group(1)), match.group(2).upper())

    @property
    def days(self) -> int:
        return self.count * _UNIT_DAYS[self.unit]

    def first_day(self, last_day: date, calendar: TradingCalendar, floor: date) -> date:
        """The first day of the period that ends with ``last_day``, or ``floor`` if that is later
        (the calendar is not read before ``floor``)."""
        if self.unit == "D":
            reach = max(last_day - timedelta(days=2 * self.count + 10), floor - timedelta(days=10))
            back = calendar.sessions(reach, last_day) if reach <= last_day else []
            first = back[-min(self.count, len(back))].day if back else last_day
        else:
            first = self._shift(last_day, -1) + timedelta(days=1)
        return max(first, floor)

    def last_day(self, first_day: date, calendar: TradingCalendar, ceiling: date) -> date:
        """The last day of the period that starts with ``first_day``, or ``ceiling`` if that is
        earlier (the calendar is not read after ``ceiling``)."""
        if self.unit == "D":
            reach = min(first_day + timedelta(days=2 * self.count + 10), ceiling + timedelta(days=10))
            ahead = calendar.sessions(first_day, reach) if first_day <= reach else []
            last = ahead[min(self.count, len(ahead)) - 1].day if ahead else first_day
        else:
            last = self._shift(first_day, 1) - timedelta(days=1)
        return min(last, ceiling)

    def _shift(self, day: date, sign: int) -> date:
        if self.unit == "W":
            return day + timedelta(days=sign * 7 * self.count)
        months = self.count * (12 if self.unit == "A" else 1)
        return _add_months(day, sign * months)

    def span_before(self, moment: datetime) -> datetime:
        """``moment`` minus the period in calendar time (continuous reporting)."""
        if self.unit in ("D", "W"):
            return moment - timedelta(days=self.days)
        day = self._shift(moment.date(), -1)
        return datetime.combine(day, moment.timetz())


_CASHFLOW_TYPES = frozenset({"CSD", "JNLC", "FEE"})


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """Alpaca's query parameters as sent (strings); :func:`portfolio_history` validates them."""

    period: str | None = None
    timeframe: str | None = None
    start: str | None = None
    end: str | None = None
    date_end: str | None = None
    intraday_reporting: str | None = None
    pnl_reset: str | None = None
    extended_hours: bool | None = None
    cashflow_types: str | None = None


@dataclass(frozen=True, slots=True)
class PortfolioHistory:
    timestamps: list[datetime]
    equity: list[Decimal]
    profit_loss: list[Decimal]
    profit_loss_pct: list[Decimal | None]
    base_value: Decimal
    base_value_asof: date | None
    timeframe: Timeframe
    cashflow: dict[str, list[Decimal]]


@dataclass(frozen=True, slots=True)
class _Point:
    label: datetime  # the timestamp reported
    at: datetime  # the moment whose equity the point shows
    base_at: datetime  # the moment whose equity its P/L is measured from (per-day reset)


@dataclass(frozen=True, slots=True)
class _Plan:
    timeframe: Timeframe
    points: list[_Point]
    base_at: datetime
    end: datetime
    per_day: bool
    cashflow_types: frozenset[str]


def _timeframe(text: str | None, span_days: int) -> Timeframe:
    if text is None or text.strip() == "":
        # Alpaca's defaults: 1Min under 7 days, 15Min under 30 days, 1D otherwise.
        if span_days < 7:
            return Timeframe.MIN1
        return Timeframe.MIN15 if span_days < INTRADAY_MAX_DAYS else Timeframe.DAY1
    found = _TIMEFRAME_ALIASES.get(text.strip().lower())
    if found is None:
        raise _invalid(f"timeframe must be one of 1Min, 5Min, 15Min, 1H, 1D, not {text!r}")
    return found


def _choice(name: str, text: str | None, kind: type[Reporting] | type[PnlReset], default: Any) -> Any:
    if text is None or text.strip() == "":
        return default
    try:
        return kind(text.strip().lower())
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise _invalid(f"{name} must be one of {allowed}, not {text!r}") from None


def _cashflow_types(text: str | None) -> frozenset[str]:
    if text is None or text.strip() == "" or text.strip().upper() == "NONE":
        return frozenset()
    if text.strip().upper() == "ALL":
        return _CASHFLOW_TYPES
    asked = {part.strip().upper() for part in text.split(",") if part.strip()}
    unknown = sorted(asked - ACTIVITY_TYPES)
    if unknown:
        raise _invalid(f"cashflow_types: unknown activity type {', '.join(unknown)}")
    return frozenset(asked & _CASHFLOW_TYPES)


def _market_day(calendar: TradingCalendar, moment: datetime, roll: Callable[[Session], datetime]) -> date:
    """The current market date at ``moment``: the last session that has begun by then."""
    today = moment.astimezone(calendar.zone).date()
    for session in reversed(calendar.sessions(today - timedelta(days=10), today)):
        if roll(session) <= moment:
            return session.day
    return calendar.previous_session_day(today - timedelta(days=10))


def _previous_close(calendar: TradingCalendar, day: date) -> datetime:
    """The close of the last session before ``day``."""
    close = calendar.session_close(calendar.previous_session_day(day))
    assert close is not None
    return close


def _previous_closes(calendar: TradingCalendar) -> Callable[[date], datetime]:
    """:func:`_previous_close`, remembered per day (a 24/7 grid asks for each day many times)."""
    known: dict[date, datetime] = {}

    def close_before(day: date) -> datetime:
        if day not in known:
            known[day] = _previous_close(calendar, day)
        return known[day]

    return close_before


def _plan(query: HistoryQuery, now: datetime, created: date) -> _Plan:
    calendar = nyse()
    zone = calendar.zone
    period = None if query.period is None or query.period.strip() == "" else Period.parse(query.period)
    start = _parse_moment("start", query.start)
    end = _parse_moment("end", query.end, end_of_day=True)
    if end is None:
        end = _parse_moment("date_end", query.date_end, end_of_day=True)
    if start is not None and end is not None and period is not None:
        raise _invalid("give at most two of start, end and period")
    if start is not None and end is not None and start > end:
        raise _invalid("start is after end")
    if start is not None and end is not None:
        span_days = (end - start).days
    elif start is not None and period is None:
        span_days = (now - start).days
    else:
        period = period or Period(1, "M")
        span_days = period.days
    timeframe = _timeframe(query.timeframe, span_days)
    if timeframe is not Timeframe.DAY1 and span_days > INTRADAY_MAX_DAYS:
        raise _invalid(f"intraday timeframes cover at most {INTRADAY_MAX_DAYS} days; use 1D")
    reporting: Reporting = _choice(
        "intraday_reporting",
        query.intraday_reporting,
        Reporting,
        Reporting.EXTENDED_HOURS if query.extended_hours else Reporting.MARKET_HOURS,
    )
    per_day = _choice("pnl_reset", query.pnl_reset, PnlReset, PnlReset.PER_DAY) is PnlReset.PER_DAY
    cashflow = _cashflow_types(query.cashflow_types)
    intraday = timeframe is not Timeframe.DAY1
    extended = intraday and reporting is Reporting.EXTENDED_HOURS

    def roll(session: Session) -> datetime:
        return datetime.combine(session.day, EXTENDED_OPEN, tzinfo=zone) if extended else session.open

    if intraday and reporting is Reporting.CONTINUOUS:
        return _continuous_plan(calendar, timeframe, start, end, period, now, created, per_day, cashflow)

    # Session days from first_day to last_day, points no later than stop. Before the account
    # existed there is nothing to show, after now nothing is known: the calendar is read only
    # between the two.
    today = now.astimezone(zone).date()
    opened = _ny_midnight(created)
    if start is not None:
        first_day = max(start.astimezone(zone).date(), created)
        if end is None and period is not None:
            last = period.last_day(min(first_day, today), calendar, today)
            stop = min(now, _ny_midnight(last + timedelta(days=1)))
        else:
            stop = min(now, end or now)
    else:
        stop = min(now, end or now)
        assert period is not None
        first_day = period.first_day(_market_day(calendar, max(stop, opened), roll), calendar, created)
    stop = max(stop, opened)
    last_day = _market_day(calendar, stop, roll)
    first_day = min(first_day, last_day + timedelta(days=1))
    sessions = calendar.sessions(first_day, last_day) if first_day <= last_day else []
    points: list[_Point] = []
    for session in sessions:
        base_at = _previous_close(calendar, session.day)
        if not intraday:
            points.append(_Point(_ny_midnight(session.day), min(session.close, stop), base_at))
            continue
        low = roll(session)
        high = session.close + EXTENDED_AFTER_CLOSE if extended else session.close
        moment = low
        while moment <= high and moment <= stop:
            points.append(_Point(moment, moment, base_at))
            moment += timeframe.step
        if moment - timeframe.step < high <= stop:
            points.append(_Point(high, high, base_at))
    base_at = _previous_close(calendar, sessions[0].day if sessions else first_day)
    return _Plan(timeframe, points, base_at, stop, per_day, cashflow)


def _continuous_plan(
    calendar: TradingCalendar,
    timeframe: Timeframe,
    start: datetime | None,
    end: datetime | None,
    period: Period | None,
    now: datetime,
    created: date,
    per_day: bool,
    cashflow: frozenset[str],
) -> _Plan:
    """A 24/7 grid of ``timeframe`` steps (aligned to the epoch) for crypto accounts."""
    opened = _ny_midnight(created)
    if start is not None:
        start = max(start, opened)
        stop = min(now, end or (_span_after(period, min(start, now)) if period is not None else now))
    else:
        stop = min(now, end or now)
        assert period is not None
        start = max(period.span_before(stop), opened)
    stop = max(stop, opened)
    start = min(start, stop + timeframe.step)
    step = int(timeframe.step.total_seconds())
    first = -(-int(start.timestamp()) // step) * step
    points: list[_Point] = []
    close_before = _previous_closes(calendar)
    moment = datetime.fromtimestamp(first, UTC)
    while moment <= stop:
        base_at = close_before(moment.astimezone(calendar.zone).date())
        points.append(_Point(moment, moment, base_at))
        moment += timeframe.step
    base_at = (
        points[0].base_at if points else _previous_close(calendar, start.astimezone(calendar.zone).date())
    )
    return _Plan(timeframe, points, base_at, stop, per_day, cashflow)


def _span_after(period: Period, moment: datetime) -> datetime:
    if period.unit in ("D", "W"):
        return moment + timedelta(days=period.days)
    months = period.count * (12 if period.unit == "A" else 1)
    return datetime.combine(_add_months(moment.date(), months), moment.timetz())


@dataclass(slots=True)
class _Sample:
    equity: Decimal
    funded: bool
    flows: dict[str, Decimal]


def _flows(event: object, wanted: frozenset[str]) -> Iterable[tuple[str, Decimal]]:
    if isinstance(event, AccountStarted) and "CSD" in wanted:
        yield "CSD", event.cash_delta
    elif isinstance(event, FillApplied) and "FEE" in wanted and event.fill.fee:
        yield "FEE", -event.fill.fee
    elif isinstance(event, CashAdjusted) and "JNLC" in wanted:
        yield "JNLC", event.cash_delta
    elif getattr(event, "type", None) == "account_reset" and "JNLC" in wanted:
        yield "JNLC", getattr(event, "cash_delta", ZERO)


@dataclass(slots=True)
class _Funding:
    at: datetime | None = None
    amount: Decimal = ZERO


def _walk(
    account_id: str, rows: Sequence[LedgerRow], moments: Sequence[datetime], cashflow: frozenset[str]
) -> tuple[dict[datetime, _Sample], _Funding]:
    """One fold over the ledger, sampling the state at each of ``moments`` (ascending): the
    equity after every event up to the first one recorded later than the moment."""
    state = AccountState(account_id=account_id)
    funding = _Funding()
    flows: dict[str, Decimal] = {}
    samples: dict[datetime, _Sample] = {}
    index = 0
    for moment in moments:
        while index < len(rows) and rows[index].at <= moment:
            event = rows[index].to_event()
            state = evolve(state, event)
            if isinstance(event, AccountStarted) and funding.at is None:
                funding = _Funding(event.at, event.cash_delta)
            for kind, amount in _flows(event, cashflow):
                flows[kind] = flows.get(kind, ZERO) + amount
            index += 1
        samples[moment] = _Sample(state.equity, funding.at is not None, dict(flows))
    return samples, funding


def portfolio_history(ctx: ServiceContext, account_id: str, query: HistoryQuery) -> PortfolioHistory:
    """The account's equity over time, as Alpaca's ``GET /v2/account/portfolio/history``."""
    now = ctx.clock()
    with UnitOfWork(ctx.engine, read_only=True) as uow:
        account = uow.accounts.get(account_id)
        plan = _plan(query, now, account.created_at.astimezone(nyse().zone).date())
        rows = uow.accounts.ledger_through(account_id, plan.end)
    moments = sorted({plan.base_at, *(p.at for p in plan.points), *(p.base_at for p in plan.points)})
    samples, funding = _walk(account_id, rows, moments, plan.cashflow_types)
    zone = nyse().zone

    def base(moment: datetime) -> tuple[Decimal, date | None]:
        sample = samples[moment]
        if sample.funded:
            return sample.equity, moment.astimezone(zone).date()
        asof = None if funding.at is None else funding.at.astimezone(zone).date()
        return funding.amount, asof

    base_value, base_asof = base(plan.base_at)
    shown = [p for p in plan.points if samples[p.at].funded]
    equity = [samples[p.at].equity for p in shown]
    per_day = plan.per_day and plan.timeframe is not Timeframe.DAY1
    bases = [base(p.base_at)[0] if per_day else base_value for p in shown]
    profit_loss = [value - basis for value, basis in zip(equity, bases, strict=True)]
    pct = [pl / basis if basis else None for pl, basis in zip(profit_loss, bases, strict=True)]
    cashflow: dict[str, list[Decimal]] = {}
    previous = samples[plan.base_at].flows
    for point in shown:
        totals = samples[point.at].flows
        for kind in plan.cashflow_types:
            cashflow.setdefault(kind, []).append(totals.get(kind, ZERO) - previous.get(kind, ZERO))
        previous = totals
    return PortfolioHistory(
        timestamps=[p.label for p in shown],
        equity=equity,
        profit_loss=profit_loss,
        profit_loss_pct=pct,
        base_value=base_value,
        base_value_asof=base_asof,
        timeframe=plan.timeframe,
        cashflow=cashflow,
    )


# --- account activities ------------------------------------------------------------------------------

# Alpaca's activity types (alpaca-py's ActivityType); only some are ever recorded here.
ACTIVITY_TYPES = frozenset(
    [
        "FILL",
        "ACATC",
        "ACATS",
        "CFEE",
        "CIL",
        "CSD",
        "CSW",
        "DIV",
        "DIVCGL",
        "DIVCGS",
        "DIVFEE",
        "DIVFT",
        "DIVNRA",
        "DIVROC",
        "DIVTW",
        "DIVTXEX",
        "DIVWH",
        "EXTRD",
        "FEE",
        "FXTRD",
        "INT",
        "INTNRA",
        "INTTW",
        "INTPNL",
        "JNL",
        "JNLC",
        "JNLS",
        "MA",
        "MEM",
        "NC",
        "OCT",
        "OPASN",
        "OPCA",
        "OPCSH",
        "OPEXC",
        "OPEXP",
        "OPTRD",
        "PTC",
        "PTR",
        "REORG",
        "SC",
        "SPIN",
        "SPLIT",
        "SSO",
        "SSP",
        "SWP",
        "VOF",
        "WH",
    ]
)
TRADE_TYPES = frozenset({"FILL"})
# Ledger event types shown as non-trade activities, and the activity type each becomes.
_LEDGER_ACTIVITIES = {"account_started": "CSD", "cash_adjusted": "JNLC", "account_reset": "JNLC"}
MAX_PAGE_SIZE = 100
# Ids of activities that are not fills are derived from what they record, in this namespace.
_NAMESPACE = uuid.UUID("0b7f3c52-6a1e-4f7e-9c1d-616374697669")


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
    order_id: str
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
            raise _invalid("activity_types and category do not go with an activity type in the path")
    elif category:
        if activity_types:
            raise _invalid("category cannot be used with activity_types")
        try:
            kind = Category(category.strip().lower())
        except ValueError:
            raise _invalid(
                f"category must be trade_activity or non_trade_activity, not {category!r}"
            ) from None
        return TRADE_TYPES if kind is Category.TRADE else ACTIVITY_TYPES - TRADE_TYPES
    elif activity_types:
        asked = {part.strip().upper() for part in activity_types.split(",") if part.strip()}
    else:
        return ACTIVITY_TYPES
    unknown = sorted(asked - ACTIVITY_TYPES)
    if unknown or not asked:
        raise _invalid(f"unknown activity type {', '.join(unknown) or activity_types!r}")
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
            raise _invalid("date cannot be used with after or until")
        moment = _parse_moment("date", day)
        assert moment is not None
        local = moment.astimezone(nyse().zone).date()
        since, before = _ny_midnight(local), _ny_midnight(local + timedelta(days=1))
    else:
        lower = _parse_moment("after", after)
        since = None if lower is None else lower + timedelta(microseconds=1)
        before = _parse_moment("until", until)
    order = (direction or "desc").strip().lower()
    if order not in ("asc", "desc"):
        raise _invalid(f"direction must be asc or desc, not {direction!r}")
    size = MAX_PAGE_SIZE
    if page_size is not None and page_size.strip() != "":
        if not page_size.strip().isdigit() or not 1 <= int(page_size) <= MAX_PAGE_SIZE:
            raise _invalid(f"page_size must be a whole number from 1 to {MAX_PAGE_SIZE}, not {page_size!r}")
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
        raise _invalid(f"page_token {text!r} is not an activity id") from None
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


def account_activities(ctx: ServiceContext, account_id: str, query: ActivityQuery) -> list[Activity]:
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
                return [_ledger_activity(account_id, row) for row in rows]

            sources.append(_Source(fetch_ledger, expand_ledger, lambda r: r.at))
        return _page(sources, query) if sources else []


def _fill_activities(
    uow: UnitOfWork, account_id: str, fills: Sequence[Fill], types: frozenset[str]
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
                order_id = str(uuid.uuid5(_NAMESPACE, f"order-of:{fill.fill_id}"))
            else:
                cum = cumulative.get(fill.fill_id, fill.qty)
                leaves = max(order.qty - cum, ZERO)
                order_id = _uuid_of(order.id)
            activities.append(
                TradeActivity(
                    _activity_id(fill.time, _uuid_of(fill.fill_id)), fill.time, fill, order_id, cum, leaves
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


def _ledger_activity(account_id: str, row: LedgerRow) -> CashActivity:
    kind = _LEDGER_ACTIVITIES[row.type]
    name = str(uuid.uuid5(_NAMESPACE, f"ledger:{account_id}:{row.seq}"))
    payload = row.payload
    if row.type == "account_started":
        description = f"initial deposit: account funded with {row.cash_delta} {payload.get('currency', '')}"
    elif row.type == "account_reset":
        description = f"account reset to its starting balance of {payload.get('starting_balance', '')}"
        if payload.get("reason"):
            description += f": {payload['reason']}"
    else:
        description = str(payload.get("reason", ""))
    return CashActivity(_activity_id(row.at, name), row.at, kind, row.cash_delta, description.strip())
