"""Acceptance: after a seeded random workload, recompute reports zero drift for every account.

The workload drives the services directly (no HTTP) on each database: decision batches of every
kind (qty and notional, long and short) on two equities, a crypto pair and a micro future; quote
moves on a settable clock (with occasional crashes that breach the drawdown limit, and symbols
left without a fresh quote); single and sweeping marks-to-market; fill and order voids;
pause/resume/lock; approvals and rejections of held actions; liquidations and completions.
Refusals (``ServiceError``, ``CommandRejected``) are part of the workload; anything else fails the
test. Afterwards, for every account: recompute finds no drift, the ledger's seq is gapless,
Σ cash_delta equals the stored cash, and each position equals the signed sum of its live fills.
The seed is fixed, so a failure reproduces exactly; counters assert the workload exercised what
it claims to.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from propdesk.accounting.kernel import CommandRejected
from propdesk.accounting.state import AccountStatus
from propdesk.model.ids import sequential_ids
from propdesk.model.instruments import AssetClass
from propdesk.model.market import Quote
from propdesk.model.orders import ActionKind
from propdesk.services.accounts import admin, lifecycle
from propdesk.services.accounts.commands import get_state, recompute
from propdesk.services.context import ServiceContext
from propdesk.services.errors import ServiceError
from propdesk.services.prop import decisions, marking
from propdesk.services.prop.decisions import ActionRequest
from propdesk.settings import Settings
from propdesk.store.decision_actions import PENDING_APPROVAL
from propdesk.store.tables import balances, decision_actions, fills, ledger_events, orders, positions
from propdesk.store.uow import UnitOfWork
from tests.db import T0

SEED = 20260105
STEPS = 400
# symbol -> (asset class sent with the action, starting mid, half spread)
INSTRUMENTS: dict[str, tuple[AssetClass | None, Decimal, Decimal]] = {
    "AAPL": (None, Decimal("190"), Decimal("0.01")),
    "MSFT": (None, Decimal("410"), Decimal("0.02")),
    "BTC/USD": (AssetClass.CRYPTO, Decimal("97000"), Decimal("5")),
    "MES": (AssetClass.FUTURE, Decimal("5000"), Decimal("0.25")),
}
# Account policies: the audition defaults, other fill models, a tight drawdown limit that marks
# can breach, manual approval.
POLICIES: list[dict[str, Any]] = [
    {},
    {"fillModel": "nbbo"},
    {"fillModel": "bps_slippage", "slippageBps": "5", "liquidationDrawdown": "0.03"},
    {"manualApproval": True},
    {"maxLeverage": "2", "feeBps": "0"},
    {"liquidationDrawdown": "0.02", "startingBalance": "50000"},
]
KINDS = [
    ActionKind.OPEN_LONG,
    ActionKind.OPEN_SHORT,
    ActionKind.INCREASE,
    ActionKind.REDUCE,
    ActionKind.CLOSE,
]


class SetClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class Workload:
    def __init__(self, engine: Engine, rng: random.Random) -> None:
        self.engine = engine
        self.rng = rng
        self.clock = SetClock(T0)
        self.ctx = ServiceContext(
            engine=engine, settings=Settings(), clock=self.clock, ids=sequential_ids("w")
        )
        self.mids = {symbol: mid for symbol, (_, mid, _) in INSTRUMENTS.items()}
        self.done: Counter[str] = Counter()
        self.account_ids: list[str] = []  # every account opened
        self.rotation: list[str] = []  # the ones the workload still picks from
        self.runs = 0

    # --- setup --------------------------------------------------------------------------------

    def open_accounts(self) -> None:
        for overrides in POLICIES:
            self.open_account(overrides)

    def open_account(self, overrides: dict[str, Any]) -> None:
        key = f"workload-{len(self.account_ids)}"
        row = lifecycle.create_account(
            self.ctx, lifecycle.NewAccount(overrides=overrides, idempotency_key=key)
        )
        lifecycle.start(self.ctx, row.id)
        self.account_ids.append(row.id)
        self.rotation.append(row.id)
        self.done["opened"] += 1

    # --- market -------------------------------------------------------------------------------

    def move_quotes(self) -> None:
        """Advance the clock and quote a random subset of symbols (the rest may go stale)."""
        self.clock.now += timedelta(seconds=self.rng.randint(1, 40))
        crash = self.rng.random() < 0.04
        quotes = []
        for symbol, (_, _, half_spread) in INSTRUMENTS.items():
            if self.rng.random() < 0.15:
                continue
            move = Decimal(self.rng.randint(-150, 150)) / 10_000
            if crash:
                move -= Decimal("0.06")
            mid = max(self.mids[symbol] * (1 + move), half_spread * 4).quantize(half_spread)
            self.mids[symbol] = mid
            quotes.append(
                Quote(symbol=symbol, time=self.clock.now, bid=mid - half_spread, ask=mid + half_spread)
            )
        with UnitOfWork(self.engine) as uow:
            uow.prices.write_quotes(quotes, source="workload")
            uow.commit()
        self.done["crash" if crash else "quotes"] += 1

    # --- intake -------------------------------------------------------------------------------

    def action(self, index: int, held: list[str]) -> ActionRequest:
        rng = self.rng
        kind = rng.choices([*KINDS, ActionKind.HOLD], weights=[6, 3, 3, 3, 2, 1])[0]
        # Mostly act on what the account holds, so increases, reduces and closes find a position.
        symbol = rng.choice(held) if held and rng.random() < 0.75 else rng.choice(list(INSTRUMENTS))
        asset_class, _, _ = INSTRUMENTS[symbol]
        qty = notional = None
        if kind not in (ActionKind.CLOSE, ActionKind.HOLD):
            if symbol == "MES":
                qty = Decimal(rng.randint(1, 3))
            elif rng.random() < 0.5:
                notional = Decimal(rng.randint(500, 30_000))
            elif symbol == "BTC/USD":
                qty = Decimal(rng.randint(1, 250)) / 1000
            else:
                qty = Decimal(rng.randint(1, 60))
        return ActionRequest(
            decision_action_id=f"a{index}",
            action=kind,
            symbol=symbol,
            qty=qty,
            notional=notional,
            asset_class=asset_class,
        )

    def submit(self, account_id: str) -> None:
        self.runs += 1
        held = sorted(get_state(self.engine, account_id).positions)
        batch = [self.action(i, held) for i in range(self.rng.randint(1, 4))]
        results = decisions.submit_batch(self.ctx, account_id, f"run-{self.runs}", batch)
        assert [r.record.decision_action_id for r in results] == [a.decision_action_id for a in batch]
        self.done.update(f"action_{r.record.status}" for r in results)
        if self.rng.random() < 0.1:  # a client retry: replayed whole, nothing re-executed
            again = decisions.submit_batch(self.ctx, account_id, f"run-{self.runs}", batch)
            assert [(r.record.id, r.replayed) for r in again] == [(r.record.id, True) for r in results]
            self.done["retry"] += 1

    def review(self, account_id: str) -> None:
        with self.engine.connect() as conn:
            held = (
                conn.execute(
                    sa.select(decision_actions.c.id).where(
                        decision_actions.c.account_id == account_id,
                        decision_actions.c.status == PENDING_APPROVAL,
                    )
                )
                .scalars()
                .all()
            )
        if not held:
            self.submit(account_id)
            return
        approve = self.rng.random() < 0.7
        decisions.review(self.ctx, self.rng.choice(held), approve=approve, actor="ops", reason="workload")
        self.done["approved" if approve else "rejected_review"] += 1

    # --- admin --------------------------------------------------------------------------------

    def void(self, account_id: str, what: str) -> None:
        table = fills if what == "fill" else orders
        live = fills.c.voided_at.is_(None) if what == "fill" else orders.c.voided_at.is_(None)
        with self.engine.connect() as conn:
            ids = (
                conn.execute(sa.select(table.c.id).where(table.c.account_id == account_id, live))
                .scalars()
                .all()
            )
        if not ids:
            return
        target = self.rng.choice(sorted(ids))
        if what == "fill":
            admin.void_fill(self.ctx, account_id, target, actor="ops", reason="bad print")
        else:
            admin.void_order(self.ctx, account_id, target, actor="ops", reason="bust")
        self.done[f"void_{what}"] += 1

    def set_status(self, account_id: str) -> None:
        verb = self.rng.choice(["pause", "lock", "resume", "resume", "resume"])
        admin.set_status(self.ctx, account_id, verb, actor="ops", reason="workload")
        self.done[verb] += 1

    def end(self, account_id: str) -> None:
        choice = self.rng.random()
        if choice < 0.4:
            admin.liquidate(self.ctx, account_id, actor="ops", reason="workload")
            self.done["liquidate"] += 1
        elif choice < 0.7:
            lifecycle.liquidate(self.ctx, account_id, "workload")
            self.done["liquidate"] += 1
        else:
            lifecycle.change_status(self.ctx, account_id, AccountStatus.COMPLETED, "workload")
            self.done["complete"] += 1

    def mark(self, account_id: str) -> None:
        result = marking.mark_account(self.ctx, account_id, force=self.rng.random() < 0.5)
        self.done["mark_persisted" if result.persisted else "mark_skipped"] += 1
        self.done["auto_liquidated"] += result.liquidated

    def sweep(self) -> None:
        result = marking.mark_all(self.ctx)
        assert result.failed == []
        self.done["sweep"] += 1
        self.done["auto_liquidated"] += result.liquidated

    def check_midway(self, account_id: str) -> None:
        report = admin.recompute_account(self.ctx, account_id, actor="ops", reason="check", apply=False)
        assert report.drift == {}
        self.done["recompute"] += 1

    # --- driver -------------------------------------------------------------------------------

    def step(self) -> None:
        account_id = self.rng.choice(self.rotation)
        if get_state(self.engine, account_id).status.is_terminal and self.rng.random() < 0.5:
            # A new audition replaces an ended one (which admins may still void fills on).
            self.rotation.remove(account_id)
            self.open_account(self.rng.choice(POLICIES))
            return
        operations: list[tuple[int, Callable[[], None]]] = [
            (30, lambda: self.submit(account_id)),
            (20, self.move_quotes),
            (6, lambda: self.review(self.account_ids[3])),
            (8, lambda: self.mark(account_id)),
            (4, self.sweep),
            (5, lambda: self.void(account_id, "fill")),
            (3, lambda: self.void(account_id, "order")),
            (4, lambda: self.set_status(account_id)),
            (1, lambda: self.end(account_id)),
            (2, lambda: self.check_midway(account_id)),
        ]
        weights, actions = zip(*operations, strict=True)
        operation = self.rng.choices(actions, weights=weights)[0]
        try:
            operation()
        except (ServiceError, CommandRejected) as exc:
            self.done[f"refused:{exc.code}"] += 1


def test_random_workload_leaves_no_drift(engine: Engine) -> None:
    workload = Workload(engine, random.Random(SEED))
    workload.open_accounts()
    workload.move_quotes()
    for _ in range(STEPS):
        workload.step()

    done = workload.done
    # The workload did what it claims: fills, refusals at the gates, voids, marks, status changes.
    for key in ("action_filled", "action_rejected", "void_fill", "void_order", "mark_persisted", "sweep"):
        assert done[key] > 0, (key, done)
    assert done["pause"] + done["lock"] > 0, done
    assert done["approved"] > 0, done
    assert done["liquidate"] + done["auto_liquidated"] > 0, done
    assert any(key.startswith("refused:") for key in done), done

    for account_id in workload.account_ids:
        assert recompute(engine, account_id) == {}, account_id
        with engine.connect() as conn:
            ledger = conn.execute(
                sa.select(ledger_events.c.seq, ledger_events.c.cash_delta)
                .where(ledger_events.c.account_id == account_id)
                .order_by(ledger_events.c.seq)
            ).all()
            cash = conn.execute(
                sa.select(balances.c.cash).where(balances.c.account_id == account_id)
            ).scalar_one()
            held = dict(
                conn.execute(
                    sa.select(positions.c.symbol, positions.c.qty).where(positions.c.account_id == account_id)
                ).all()
            )
            live_fills = conn.execute(
                sa.select(fills.c.symbol, fills.c.side, fills.c.qty).where(
                    fills.c.account_id == account_id, fills.c.voided_at.is_(None)
                )
            ).all()
        assert [seq for seq, _ in ledger] == list(range(1, len(ledger) + 1))
        assert sum((delta for _, delta in ledger), Decimal(0)) == cash
        signed: Counter[str] = Counter()
        for symbol, side, qty in live_fills:
            signed[symbol] += qty if side == "buy" else -qty
        assert {s: q for s, q in signed.items() if q} == {s: q for s, q in held.items() if q}, account_id
