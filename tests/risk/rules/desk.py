"""A test desk: drives an account through the accounting kernel and its rule state through a pack.

Tests say what a trader did (fills, marks, payouts at wall-clock times in the pack's zone) and read
back floors and outcomes, so golden examples exercise the real folding path, not a formula.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

from propdesk.accounting.events import FillApplied
from propdesk.accounting.kernel import AdjustCash, ApplyFill, MarkToPrices, Start, handle
from propdesk.accounting.state import AccountState
from propdesk.model.fills import Fill
from propdesk.model.instruments import Instrument, future
from propdesk.model.orders import Side
from propdesk.risk.rules.evaluate import evaluate
from propdesk.risk.rules.fold import observe, record_payout, start_rules
from propdesk.risk.rules.observations import observation_from_account
from propdesk.risk.rules.pack import RulePack
from propdesk.risk.rules.packs import load_pack
from propdesk.risk.rules.state import Outcome, RuleState
from propdesk.risk.rules.status import RuleStatus

D = Decimal
ES = future("ES")  # $50 a point
MES = future("MES")  # $5 a point
_ids = count(1)


def local(pack: RulePack, day: date, wall: str) -> datetime:
    """``wall`` (HH:MM) on calendar date ``day`` in the pack's zone, as UTC."""
    hours, minutes = (int(x) for x in wall.split(":"))
    zone = ZoneInfo(pack.day_boundary.timezone)
    return datetime.combine(day, time(hours, minutes), tzinfo=zone).astimezone(UTC)


@dataclass
class Desk:
    pack: RulePack
    start: datetime
    account: AccountState = field(init=False)
    rules: RuleState = field(init=False)
    now: datetime = field(init=False)

    def __post_init__(self) -> None:
        started = handle(
            AccountState(account_id="desk"),
            Start(at=self.start, starting_cash=self.pack.starting_balance, leverage=D(100)),
        )
        self.account = started.state
        self.rules = start_rules(self.pack, self.start)
        self.now = self.start

    @classmethod
    def open(cls, pack: RulePack | str, day: date, wall: str = "08:00") -> Desk:
        resolved = load_pack(pack) if isinstance(pack, str) else pack
        return cls(resolved, local(resolved, day, wall))

    def at(self, day: date, wall: str) -> datetime:
        return local(self.pack, day, wall)

    def fill(
        self,
        when: datetime,
        side: Side,
        qty: str | int | Decimal,
        price: str | int | Decimal,
        *,
        instrument: Instrument = ES,
        fee: str = "0",
    ) -> Desk:
        fill = Fill(
            fill_id=f"f{next(_ids)}",
            order_id=None,
            instrument=instrument.spec,
            side=side,
            qty=D(qty),
            price=D(price),
            fee=D(fee),
            time=when,
        )
        decision = handle(self.account, ApplyFill(at=when, fill=fill))
        self.account = decision.state
        event = next(e for e in decision.events if isinstance(e, FillApplied))
        self.rules = observe(
            self.pack, self.rules, observation_from_account(self.pack, self.account, when, fill_event=event)
        )
        self.now = when
        return self

    def buy(
        self,
        when: datetime,
        qty: str | int | Decimal,
        price: str | int | Decimal,
        *,
        instrument: Instrument = ES,
        fee: str = "0",
    ) -> Desk:
        return self.fill(when, Side.BUY, qty, price, instrument=instrument, fee=fee)

    def sell(
        self,
        when: datetime,
        qty: str | int | Decimal,
        price: str | int | Decimal,
        *,
        instrument: Instrument = ES,
        fee: str = "0",
    ) -> Desk:
        return self.fill(when, Side.SELL, qty, price, instrument=instrument, fee=fee)

    def outcome(self) -> Outcome:
        """The outcome now (a call, so that type checkers do not narrow it between steps)."""
        return self.rules.outcome

    def mark(self, when: datetime, price: str | int | Decimal, symbol: str = "ES") -> Desk:
        self.account = handle(self.account, MarkToPrices(at=when, prices={symbol: D(price)})).state
        self.rules = observe(self.pack, self.rules, observation_from_account(self.pack, self.account, when))
        self.now = when
        return self

    def round_trip(self, day: date, pnl: int, *, wall: str = "09:00", close: str = "09:30") -> Desk:
        """One ES trade on ``day`` that makes ``pnl`` dollars (a multiple of 12.50)."""
        points = D(pnl) / 50
        self.buy(self.at(day, wall), 1, 5000)
        return self.sell(self.at(day, close), 1, D(5000) + points)

    def payout(self, when: datetime, amount: str | int) -> Desk:
        self.account = handle(self.account, AdjustCash(at=when, amount=-D(amount), reason="payout")).state
        self.rules = record_payout(self.pack, self.rules, amount=D(amount), at=when)
        self.now = when
        return self

    def status(self, when: datetime | None = None) -> RuleStatus:
        return evaluate(self.pack, self.rules, when or self.now)
